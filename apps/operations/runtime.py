"""Facts about this server process: when it started, what it runs."""

import time

STARTED_MONOTONIC = time.monotonic()


def uptime_s() -> float:
    return round(time.monotonic() - STARTED_MONOTONIC, 3)
