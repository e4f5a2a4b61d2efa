"""Where a staff page's rerun spends its time: AppTest runs of a page under cProfile.

    .venv/bin/python -m bench.page_profile dashboard insights quality [--runs 3] [--top 25] [--demo-size 34,40]

Builds the demo city (the app's own demo, 12–14 interviews per community and round) in a
temporary SQLite file, logs in as an admin through the account page, opens each page once (cold)
and reruns it ``--runs`` times; prints the median time of a rerun of each page and the functions
where the reruns spent their time (cumulative).  The machine is shared: compare pages with each
other and before/after in one run, not figures taken at different times.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "profile pass 1"


def _prepare(path: Path, per_community: tuple[int, int] = (12, 14)) -> str:
    from data import accounts
    from data.db import make_engine, upgrade_database, write_session
    from data.demo import load_demo

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade_database(engine)
    load_demo(engine, per_community=per_community)
    with write_session(engine) as session:
        accounts.create_user(session, None, "profiler", PASSWORD, "admin")
    engine.dispose()
    return url


# AppTest runs the page in a thread of its own, which a profiler enabled in the main thread never
# sees: the script's run itself is wrapped instead.
_profile: cProfile.Profile | None = None
_original_run_script = script_runner.ScriptRunner._run_script


def _profiled_run_script(self, *args, **kwargs):
    if _profile is None:
        return _original_run_script(self, *args, **kwargs)
    return _profile.runcall(_original_run_script, self, *args, **kwargs)


script_runner.ScriptRunner._run_script = _profiled_run_script


def main() -> None:
    global _profile
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--cold", action="store_true",
                        help="also profile each page's first open (what a new round version costs)")
    parser.add_argument("--warm-up", action="store_true",
                        help="first do what serve.py does at start (ui/warm_up.py), as a running server has")
    parser.add_argument("--demo-size", default="12,14",
                        help="interviews per community and round (34,40: the app's own demo city)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        size = tuple(int(n) for n in args.demo_size.split(","))
        os.environ["DATABASE_URL"] = _prepare(Path(folder) / "survey.sqlite3", size)
        if args.warm_up:
            from ui.warm_up import warm_up

            print(f"warm-up: {warm_up():.2f} s")
        app = AppTest.from_file(str(ROOT / "survey_app.py"), default_timeout=300)
        app.run()
        app.switch_page("pages/account.py").run()
        app.text_input[0].input("profiler")
        app.text_input[1].input(PASSWORD)
        next(b for b in app.button if b.label in ("登录", "Log in")).click().run()
        for name in args.pages:
            first = _profile = cProfile.Profile() if args.cold else None
            started = time.perf_counter()
            app.switch_page(f"pages/{name}.py").run()
            cold = time.perf_counter() - started
            _profile = None
            assert not app.exception, app.exception
            if first is not None:
                print(f"\n=== {name}: first open {cold:.2f} s (its caches empty), profiled")
                out = io.StringIO()
                pstats.Stats(first, stream=out).sort_stats("cumulative").print_stats(args.top)
                print("\n".join(line[:200] for line in out.getvalue().splitlines() if line.strip()))
            profile = _profile = cProfile.Profile()
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                app.run()
                times.append(time.perf_counter() - started)
            _profile = None
            print(f"\n=== {name}: first open {cold:.2f} s, rerun median {statistics.median(times):.2f} s "
                  f"({', '.join(f'{t:.2f}' for t in times)})")
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
            print("\n".join(line[:200] for line in out.getvalue().splitlines() if line.strip()))


if __name__ == "__main__":
    main()
