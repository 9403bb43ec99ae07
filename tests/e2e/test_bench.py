"""The benchmark's own parts, against the real server (bench/README.md).

The generator speaks schema-valid OCPP, and a short run of it is answered in
full and leaves exactly what the server acknowledged in the database: the
integrity check the benchmark's numbers rest on.
"""

import asyncio
import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import ocpp
import pytest

from tests.e2e.server import free_port

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


async def test_the_generators_http_client_reads_sized_and_chunked_answers(tmp_path):
    # given: a server answering the first request with a sized body and the
    # second, on the same connection, with a chunked one
    loadgen = _bench_module("loadgen")
    connections = []

    async def answer(reader, writer):
        connections.append(writer)
        for body in (b'{"status":"Accepted"}', None):
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            if body is not None:
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
                )
                writer.write(body)
            else:
                writer.write(
                    b"HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b'5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n'
                )
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = loadgen.HttpPool(timeout=5)
    url = f"http://127.0.0.1:{port}/api/v1/x/"

    # when
    async with server:
        first = await client.post(url, {"action": "ClearCache"}, {"X-A": "1"})
        second = await client.post(url, {}, {})
        client.close()

    # then: both read whole, over one kept-alive connection
    assert (first.status_code, first.json()) == (200, {"status": "Accepted"})
    assert (second.status_code, second.json()) == (409, {"a": 1})
    assert len(connections) == 1


def test_commands_through_the_calibration_server_reach_the_station_and_back(
    tmp_path,
):
    # given: echo_csms, which passes a command's CALL to the station
    port = free_port()
    api_port = free_port()
    echo = _start_echo(port, api_port)
    try:
        _wait_for_port(api_port)
        out = tmp_path / "commands.json"

        # when: the generator runs its commands scenario against it
        done = subprocess.run(
            [
                sys.executable,
                str(BENCH / "loadgen.py"),
                "--scenario",
                "commands",
                "--url",
                f"ws://127.0.0.1:{port}/ocpp",
                "--api-url",
                f"http://127.0.0.1:{api_port}",
                "--stations",
                "10",
                "--warm",
                "0",
                "--rate",
                "20",
                "--warmup",
                "0.5",
                "--duration",
                "2",
                "--command-rate",
                "10",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        echo.terminate()
        echo.wait(10)

    # then: every command answered by a station, through the API's round trip
    assert done.returncode == 0, done.stderr[-2000:]
    commands = json.loads(out.read_text())["commands"]
    assert commands["sent"] == commands["ok"] > 0, commands
    assert commands["station_status"] == {"Accepted": commands["ok"]}


def _start_echo(port: int, api_port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(BENCH / "echo_csms.py"),
            "--port",
            str(port),
            "--api-port",
            str(api_port),
        ]
    )


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def test_the_runner_pins_each_server_process_as_told():
    cores = _bench_module("run").server_cores

    assert cores("0", 2) == ["0", "0"]  # both on core 0
    assert cores("0-1", 2) == ["0-1", "0-1"]  # both over both cores
    assert cores("0/1", 2) == ["0", "1"]  # one core each
    assert cores("0/1", 3) == ["0", "1", "0"]


def test_per_process_scaleout_gives_the_second_run_twice_the_load():
    run = _bench_module("run")
    args = run.parse_args(
        [
            "--scaleout-per-process",
            "--scaleout-rate",
            "250",
            "--scaleout-stations",
            "1000",
        ]
    )

    specs = run.scenario_specs(args)

    k1, k2 = specs["scaleout-k1"], specs["scaleout-k2"]
    assert (k1["stations"], k1["rate"], k1["processes"]) == (1000, 250, 1)
    assert (k2["stations"], k2["rate"], k2["processes"]) == (2000, 500, 2)
    assert k2["command_rate"] == 2 * k1["command_rate"]


async def test_the_wind_down_waits_for_the_windows_calls_in_flight():
    # given: a generator with one call of the measured window still unanswered
    loadgen = _bench_module("loadgen")
    gen = loadgen.Generator(loadgen.parse_args(["--stations", "1"]))
    gen.pending["window-call"] = (gen.stations[0], "MeterValues", 0.0, True, 0, "")

    # when: the wind-down starts
    winding = asyncio.ensure_future(gen.wind_down(5))
    await asyncio.sleep(0.1)

    # then: its burst waits until the window's call is answered
    assert not gen.winding_down
    del gen.pending["window-call"]
    await asyncio.wait_for(winding, 2)
    assert gen.winding_down


def test_scaleout_runs_the_same_loads_on_the_calibration_server_too():
    run = _bench_module("run")
    args = run.parse_args(["--scaleout-rate", "300", "--scaleout-stations", "1200"])

    specs = run.scenario_specs(args)

    for k in (1, 2):
        csms, echo = specs[f"scaleout-k{k}"], specs[f"scaleout-echo-k{k}"]
        assert echo["server"] == "echo"
        assert echo["processes"] == csms["processes"] == k
        assert (echo["stations"], echo["rate"]) == (csms["stations"], csms["rate"])
        assert "command_rate" not in echo  # echo_csms cannot route across processes
    assert run.SCENARIO_GROUPS["scaleout"] == [
        "scaleout-k1",
        "scaleout-k2",
        "scaleout-echo-k1",
        "scaleout-echo-k2",
    ]


def test_the_scaleout_comparison_sets_the_csms_ratio_against_the_bare_stacks():
    run = _bench_module("run")

    def summary(rate, cpu_ms_per_msg):
        return {
            "config": {"rate": rate},
            "server": {"server": {"cpu_ms_per_msg": cpu_ms_per_msg}},
        }

    comparison = run.scaleout_comparison(
        {
            "scaleout-k1": summary(300, 1.0),
            "scaleout-k2": summary(300, 1.3),
            "scaleout-echo-k1": summary(300, 0.4),
            "scaleout-echo-k2": summary(300, 0.5),
        }
    )

    assert comparison["ratio"] == 1.3
    assert comparison["echo_ratio"] == 1.25
    assert comparison["ratio_over_echo"] == 1.04


def test_the_calibration_server_answers_the_runners_health_check():
    port = free_port()
    echo = _start_echo(port, free_port())
    try:
        _wait_for_port(port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=5) as r:
            status = r.status
    finally:
        echo.terminate()
        echo.wait(10)

    assert status == 200
