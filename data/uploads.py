"""Uploaded files are parsed in a worker process with a time and memory budget.

The process that serves every citizen must not be the one that chews on a hostile file: a
questionnaire, XLSForm, paper or population file is read by a short-lived worker (forked from a
small server process that already imported the readers), whose address space is capped with
``RLIMIT_AS`` and which is killed when its time is up.  A file that costs too much gets a clear
refusal in Chinese and English after a few seconds; the server goes on as before.

The readers themselves also refuse files over their own limits (size, rows, nesting, numbers),
so the worker's budget is the last line, not the first.  The limits per kind of upload are
listed in ``UPLOAD_LIMITS`` (and in docs/security.md, shown on the upload pages).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import threading
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadLimit:
    max_bytes: int
    seconds: float
    memory_bytes: int = 1024 * 1024 * 1024  # on top of what the worker holds when it starts

    @property
    def megabytes(self) -> str:
        return f"{self.max_bytes / 1024 / 1024:g}"


UPLOAD_LIMITS = {
    "questionnaire_yaml": UploadLimit(1 * 1024 * 1024, 20),
    "questionnaire_xlsx": UploadLimit(5 * 1024 * 1024, 30),
    "paper": UploadLimit(30 * 1024 * 1024, 180),
    "population": UploadLimit(5 * 1024 * 1024, 30),
}

_PRELOAD = ["questionnaires.loader", "questionnaires.xlsform", "data.paper", "data.population"]
_CONTEXT_LOCK = threading.Lock()
_CONTEXT = None


def _context():
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            context = multiprocessing.get_context("forkserver")
            # The readers are imported once in the fork server, so each worker starts in milliseconds;
            # forking a clean server (not this multi-threaded process) is also the safe way to fork.
            context.set_forkserver_preload(_PRELOAD)
            _CONTEXT = context
        return _CONTEXT


def too_large_message(limit: UploadLimit) -> str:
    return f"文件超过 {limit.megabytes} MB / the file is larger than {limit.megabytes} MB"


def _too_costly_message(limit: UploadLimit) -> str:
    return (f"文件过于复杂：读取它超过了 {limit.seconds:g} 秒或 {limit.memory_bytes // 1024 // 1024} MB 内存的限额，已停止。"
            f"请检查文件后重新上传 / the file is too complex: reading it went over the budget of {limit.seconds:g} s "
            f"or {limit.memory_bytes // 1024 // 1024} MB of memory and was stopped; check the file and upload it again")


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _work(connection, function: Callable, args: tuple, kwargs: dict, memory_bytes: int) -> None:
    try:
        ceiling = _address_space() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        outcome: tuple[str, Any] = ("ok", function(*args, **kwargs))
    except (MemoryError, RecursionError):
        outcome = ("too_costly", None)
    except Exception as error:  # handed to the caller, who raises it as the reader would have
        outcome = ("raised", error)
    try:
        connection.send(outcome)
    except Exception as error:  # noqa: BLE001 - e.g. an exception that cannot be pickled
        connection.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()


def read_limited(kind: str, refusal: Callable[[str], Exception], function: Callable, *args, **kwargs) -> Any:
    """``function(*args, **kwargs)`` run in a worker within the budget of ``UPLOAD_LIMITS[kind]``.

    Returns what it returns and raises what it raises; a worker that runs out of time or memory
    (or dies) raises ``refusal(message)``, the reader's own kind of error with a clear message,
    so pages handle it as any other unreadable file.  ``function`` must be importable by name.
    """
    limit = UPLOAD_LIMITS[kind]
    if os.environ.get("SURVEY_UPLOADS_IN_PROCESS") == "1":  # for debugging a reader only
        return function(*args, **kwargs)
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_work, args=(sender, function, args, kwargs, limit.memory_bytes), daemon=True)
    worker.start()
    sender.close()
    try:
        if not receiver.poll(limit.seconds):
            log.warning("upload of kind %s stopped after %s s", kind, limit.seconds)
            raise refusal(_too_costly_message(limit))
        try:
            status, value = receiver.recv()
        except (EOFError, OSError, MemoryError):  # the worker died (e.g. killed at its memory ceiling)
            log.warning("upload worker of kind %s died (exit code %s)", kind, worker.exitcode)
            raise refusal(_too_costly_message(limit)) from None
    finally:
        receiver.close()
        if worker.is_alive():
            worker.kill()
        worker.join(5)
    if status == "ok":
        return value
    if status == "raised":
        raise value
    if status == "failed":
        log.error("upload worker of kind %s failed: %s", kind, value)
    raise refusal(_too_costly_message(limit))
