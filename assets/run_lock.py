"""The run lock: an exclusive `flock` on `<data root>/run.lock`, held by the one run writing
under that data root from its start to its end. The OS frees it the moment the process dies
(kill -9 included), so a crash never blocks the next run. Plain Python: the CLI uses it before
Dagster is imported.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from assets.settings import Settings

LOCK_POLL_SECONDS = 1.0

# Run tags: where the run's process lives, to tell a dead run from a live one.
PID_TAG = "mentorpulse/pid"
HOST_TAG = "mentorpulse/host"


def process_tags() -> dict[str, str]:
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class RunLockTimeout(RuntimeError):
    """Waited the allowed time for the run lock; the message names who holds it."""


# Locks this process holds (path -> depth): the CLI holds the run lock around a run, and the
# run's resource takes it again in the same process.
_HELD: dict[str, int] = {}


@contextmanager
def file_lock(
    path: Path,
    holder: str,
    wait_seconds: float,
    log: Callable[[str], None] | None = _stderr,
) -> Iterator[None]:
    """Hold an exclusive flock on `path` for the block, waiting at most `wait_seconds`.

    Waiting sleeps and says once per holder whom it waits for; `holder` is written into the
    file for the next waiter to read. Re-entrant within one process.
    """
    key = str(path)
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by child processes
    try:
        _acquire(fd, path, wait_seconds, log)
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def _acquire(fd: int, path: Path, wait_seconds: float, log) -> None:
    deadline = time.monotonic() + wait_seconds
    announced = None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        try:
            holder = path.read_text().strip() or "another process"
        except OSError:
            holder = "another process"
        if log and holder != announced:
            log(
                f"Waiting for {holder} holding {path} (giving up after {wait_seconds:.0f}s, "
                "MENTORPULSE_LOCK_WAIT_SECONDS)"
            )
            announced = holder
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RunLockTimeout(
                f"Gave up after {wait_seconds:.0f}s waiting for {holder} holding {path}: that "
                "run is still working. Run again when it has ended, or allow a longer wait "
                "with MENTORPULSE_LOCK_WAIT_SECONDS."
            )
        time.sleep(min(LOCK_POLL_SECONDS, remaining))


def describe_holder(run_id: str | None) -> str:
    host, pid = socket.gethostname(), os.getpid()
    return f"run {run_id} / pid {pid} on {host}" if run_id else f"pid {pid} on {host}"


@contextmanager
def run_lock(settings: Settings, run_id: str | None, log=_stderr) -> Iterator[None]:
    """The data root's run lock, held by the run `run_id` (this process)."""
    with file_lock(
        settings.run_lock_path, describe_holder(run_id), settings.lock_wait_seconds, log
    ):
        yield
