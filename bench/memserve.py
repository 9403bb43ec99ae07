"""The server under tracemalloc: where a connected station's memory goes.

``run.py --memprofile-scenarios idle`` starts the server with this instead
of ``manage.py serve --server uvicorn`` and sends it SIGUSR1 twice: at the
generator's baseline (no station connected) and once every station is
connected. The second signal writes the difference of the two heap snapshots,
grouped by allocation site, to ``$BENCH_MEMPROFILE_OUT``, per connected
station. tracemalloc slows the server and counts Python allocations only (not
the allocator's slack, so RSS per station is larger): use the numbers for
where the memory goes, not for how much.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import tracemalloc
from pathlib import Path

FRAMES = 16  # deep enough to see which of our frames sits under asyncio/uvicorn
TOP = 40

tracemalloc.start(FRAMES)

ROOT = Path(os.environ.get("CSMS_PROJECT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csms.settings")

import django  # noqa: E402

django.setup()

import uvicorn  # noqa: E402

from apps.ocpp import registry  # noqa: E402
from apps.operations.management.commands.serve import (  # noqa: E402
    resolve_options,
    uvicorn_kwargs,
)

_snapshots: list[tracemalloc.Snapshot] = []


def _ours(frame: tracemalloc.Frame) -> bool:
    return "/apps/" in frame.filename or "/csms/" in frame.filename


def _site(trace_back: tracemalloc.Traceback) -> str:
    """The allocating line, and the innermost of our own frames above it."""
    allocating = trace_back[-1]  # frames run from the oldest to the newest
    lines = [f"{_short(allocating.filename)}:{allocating.lineno}"]
    ours = next((f for f in reversed(trace_back) if _ours(f)), None)
    if ours is not None and ours is not allocating:
        lines.append(f"from {_short(ours.filename)}:{ours.lineno}")
    return " ".join(lines)


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _report(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> str:
    stations = max(1, len(registry.connected))
    by_site: dict[str, list[int]] = {}
    by_file: dict[str, int] = {}
    for stat in after.compare_to(before, "traceback"):
        if stat.size_diff <= 0:
            continue
        site = _site(stat.traceback)
        entry = by_site.setdefault(site, [0, 0])
        entry[0] += stat.size_diff
        entry[1] += stat.count_diff
        top = _short(stat.traceback[-1].filename).split("/")[0]
        by_file[top] = by_file.get(top, 0) + stat.size_diff
    total = sum(size for size, _ in by_site.values())
    out = [
        f"connected stations: {stations}",
        f"Python heap growth: {total / 1024 / stations:.1f} KiB per station "
        f"({total / 1024 / 1024:.1f} MiB)",
        "",
        "by package (KiB per station):",
    ]
    for name, size in sorted(by_file.items(), key=lambda kv: -kv[1])[:15]:
        out.append(f"  {size / 1024 / stations:7.2f}  {name}")
    out += ["", f"top {TOP} allocation sites (bytes and objects per station):"]
    for site, (size, count) in sorted(by_site.items(), key=lambda kv: -kv[1][0])[:TOP]:
        out.append(f"  {size / stations:8.0f} B {count / stations:6.1f}  {site}")
    return "\n".join(out) + "\n"


def _on_signal(signum, frame) -> None:
    gc.collect()
    _snapshots.append(tracemalloc.take_snapshot())
    if len(_snapshots) == 2:
        text = _report(*_snapshots)
        Path(os.environ.get("BENCH_MEMPROFILE_OUT", "memprofile.txt")).write_text(text)
        _snapshots.clear()


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGUSR1, _on_signal)
    kwargs = uvicorn_kwargs(resolve_options(server="uvicorn", host=host, port=port))
    kwargs["workers"] = 1
    uvicorn.run(**kwargs)


if __name__ == "__main__":
    main()
