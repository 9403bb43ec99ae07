"""Task functions for the scheduler tests, imported by dotted name."""

import threading

calls: list[dict] = []
release = threading.Event()


def record_run(**kwargs) -> None:
    calls.append({"thread": threading.current_thread().name, **kwargs})


def fail() -> None:
    raise RuntimeError("job failed on purpose")


def block() -> None:
    release.wait(5)
