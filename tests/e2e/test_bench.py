"""The benchmark's own parts, against the real server (bench/README.md).

The generator speaks schema-valid OCPP, and a short run of it is answered in
full and leaves exactly what the server acknowledged in the database: the
integrity check the benchmark's numbers rest on.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import ocpp
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _bench_module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_frame_the_generator_can_send_is_schema_valid(tmp_path):
    package = Path(ocpp.__file__).parent
    for version in ("v16", "v201"):
        (tmp_path / version).symlink_to(package / version / "schemas")

    done = subprocess.run(
        [sys.executable, str(BENCH / "loadgen.py"), "--selfcheck", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "INVALID" not in done.stdout


@pytest.fixture
def seed():
    return _bench_module("seed")


def test_a_short_run_is_answered_in_full_and_stored_exactly(live, seed, tmp_path):
    # given: the benchmark's fleet, seeded as the runner seeds it
    stations = 6
    seed.seed(
        SimpleNamespace(
            stations=stations,
            prefix="BENCH",
            digits=5,
            password="bench-station-password-0123456789",
            organization="bench",
            tags=20,
            tag_prefix="BTAG",
        )
    )
    before = seed.counts(SimpleNamespace(prefix="BENCH"))

    # when: the generator charges on them for a few seconds
    out = tmp_path / "steady.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "loadgen.py"),
            "--url",
            f"{live.ws_url}/ocpp",
            "--stations",
            str(stations),
            "--warm",
            "0",
            "--settle",
            "0.5",
            "--tags",
            "20",
            "--rate",
            "40",
            "--warmup",
            "1",
            "--duration",
            "4",
            "--session-meter-values",
            "3",
            "--start-prob",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(out.read_text())
    live.wait_quiet()
    after = seed.counts(SimpleNamespace(prefix="BENCH"))

    # then: every call answered, none refused, sessions of both versions ended
    traffic = summary["traffic"]
    assert traffic["answered"] == traffic["sent"] > 0
    assert (traffic["errors"], traffic["timeouts"], traffic["disconnects"]) == (0, 0, 0)
    assert summary["connect"]["boot_status"] == {"Accepted": stations}
    acknowledged = summary["data_acknowledged"]
    assert acknowledged["tx_stopped"] == acknowledged["tx_started"] > 0
    assert acknowledged["tx_events"] > 0 and acknowledged["sampled_values"] > 0
    # and the database holds exactly that: the benchmark's integrity check passes
    verdict = _bench_module("run").integrity(summary, before, after)
    assert verdict["passed"] is True, verdict["checks"]
    assert all(c["result"] == "exact" for c in verdict["checks"].values()), verdict
