"""Start Debian's nginx, unprivileged, in front of app instances, with the repo's own site rules.

The production site (deploy/nginx/survey.conf) includes survey-http.conf and survey-locations.conf;
this module writes a throw-away nginx.conf that includes the very same two files, with its own
listen port, upstream ports, pid file, logs and temp paths in a directory of the caller's.  The
proxy test (tests/browser/test_proxy.py) and the citizen-page benchmark (bench/citizen_page.py)
use it, so what they measure and check is what a deployment runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

NGINX_DIR = Path(__file__).resolve().parent / "nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")


def nginx_binary() -> str | None:
    """Debian's nginx (/usr/sbin is not on every user's PATH)."""
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_config(listen_port: int, upstream_ports: list[int], work_dir: Path) -> str:
    """A complete nginx.conf: the repo's site rules, local ports, everything written under work_dir."""
    upstreams = "\n".join(f"        server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;" for port in upstream_ports)
    # As root, nginx would hand its workers to "nobody", who cannot write the caller's temp dirs.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = work_dir / "temp"
    return f"""{user}worker_processes 1;
daemon off;
pid {work_dir / "nginx.pid"};
error_log {work_dir / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    # Which instance served each browser (by its sticky cookie): the proxy test reads it.
    log_format survey_route '$cookie_survey_route $upstream_addr $status "$request"';
    access_log {work_dir / "access.log"} survey_route;
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};

    include {NGINX_DIR / "survey-http.conf"};

    upstream survey_app {{
        hash $survey_route consistent;
{upstreams}
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{listen_port};
        server_name localhost;
        include {NGINX_DIR / "survey-locations.conf"};
    }}
}}
"""


@contextmanager
def running_nginx(upstream_ports: list[int], work_dir: Path, timeout: float = 20) -> Iterator[str]:
    """nginx in the foreground in front of the ports; yields its base URL and stops it afterwards."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx not found (Debian: apt-get install nginx)")
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "temp").mkdir(exist_ok=True)
    port = free_port()
    config = work_dir / "nginx.conf"
    config.write_text(nginx_config(port, upstream_ports, work_dir), encoding="utf-8")
    check = subprocess.run([binary, "-t", "-p", str(work_dir), "-c", str(config), "-e", str(work_dir / "error.log")],
                           capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"nginx refused the configuration:\n{check.stderr}")
    log = open(work_dir / "nginx.out", "wb")
    process = subprocess.Popen([binary, "-p", str(work_dir), "-c", str(config), "-e", str(work_dir / "error.log")],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited with {process.returncode}: "
                                   f"{(work_dir / 'error.log').read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not answer within {timeout} s")
            time.sleep(0.1)
        yield base_url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
