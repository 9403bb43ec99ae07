#!/usr/bin/env python3
"""OCPP-J fleet load generator: N stations over WebSockets, one JSON summary.

Stand-alone on purpose: it imports nothing from the CSMS and speaks only the
wire protocol (OCPP 1.6J and 2.0.1 CALL/CALLRESULT/CALLERROR frames), so it can
be pointed at any Central System.

Design for a generator that must not be the bottleneck on one core:

- every station is an ``asyncio.Protocol`` driving the *sans-I/O* WebSocket
  implementation of ``websockets`` (``websockets.client.ClientProtocol``): no
  task, no reader coroutine, no future per station or per call; bytes in ->
  events -> callbacks;
- frames are rendered from templates serialized once (``json.dumps`` at start-up,
  ``%``-substitution per message), responses parsed with orjson when available;
- one scheduler coroutine fires stations round-robin at the target aggregate
  rate; a station never has more than one CALL outstanding (OCPP-J: a party
  must not send a CALL before the previous one was answered or timed out), so
  a station whose previous call is still open skips its turn (``skipped_busy``);
- answers are matched in one dict ``unique id -> (station, action, t0, ...)``.

Scenarios (see bench/README.md): ``steady``, ``idle``, ``storm``, ``commands``;
``--url`` repeated spreads stations over several server processes.
``--selfcheck SCHEMA_DIR`` validates every frame the generator can send (and
every answer it gives) against the official JSON schemas, then exits.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import json
import math
import os
import random
import resource
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

try:
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover
    _loads = json.loads

perf = time.perf_counter

# --------------------------------------------------------------------------- #
# Frame templates
# --------------------------------------------------------------------------- #


class Template:
    """A frame serialized once; ``"$s:name"`` is a string slot, ``"$n:name"`` raw.

    ``render(u=..., ts=...)`` is a single ``%`` substitution. Slot values must
    not need JSON escaping (ids, timestamps, numbers: they never do here).
    """

    def __init__(self, obj):
        text = json.dumps(obj, separators=(",", ":")).replace("%", "%%")
        self.names: list[str] = []
        out = []
        i = 0
        while True:
            j = text.find('"$', i)
            if j < 0:
                out.append(text[i:])
                break
            k = text.index('"', j + 1)
            kind, name = text[j + 2 : k].split(":", 1)
            out.append(text[i:j])
            out.append(f'"%({name})s"' if kind == "s" else f"%({name})s")
            self.names.append(name)
            i = k + 1
        self.fmt = "".join(out)

    def render(self, **values) -> str:
        return self.fmt % values


def S(name: str) -> str:
    return f"$s:{name}"


def N(name: str) -> str:
    return f"$n:{name}"


def call(action: str, payload: dict) -> Template:
    return Template([2, S("u"), action, payload])


# Sampled values of one periodic reading, in order; --samples takes the first k.
# (measurand, unit, location, slot)
SAMPLES = [
    ("Energy.Active.Import.Register", "Wh", "Outlet", "e"),
    ("Power.Active.Import", "W", "Outlet", "p"),
    ("Current.Import", "A", "Outlet", "i"),
    ("SoC", "Percent", "EV", "soc"),
    ("Voltage", "V", "Outlet", "v"),
    ("Current.Offered", "A", "Outlet", "io"),
]


def _sv16(measurand, unit, location, slot, context="Sample.Periodic"):
    return {
        "value": S(slot),
        "context": context,
        "measurand": measurand,
        "location": location,
        "unit": unit,
    }


def _sv201(measurand, unit, location, slot, context="Sample.Periodic"):
    return {
        "value": N(slot),
        "context": context,
        "measurand": measurand,
        "location": location,
        "unitOfMeasure": {"unit": unit},
    }


class Frames16:
    version = "1.6"
    subprotocol = "ocpp1.6"

    def __init__(self, samples: int):
        self.boot = call(
            "BootNotification",
            {
                "chargePointVendor": "BenchVendor",
                "chargePointModel": "Bench-16",
                "chargePointSerialNumber": S("sn"),
                "firmwareVersion": "1.0.0",
            },
        )
        self.heartbeat = call("Heartbeat", {})
        self.status = call(
            "StatusNotification",
            {
                "connectorId": N("c"),
                "errorCode": "NoError",
                "status": S("st"),
                "timestamp": S("ts"),
            },
        )
        self.start = call(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": S("tag"),
                "meterStart": N("e"),
                "timestamp": S("ts"),
            },
        )
        self.meter = call(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": N("tx"),
                "meterValue": [
                    {
                        "timestamp": S("ts"),
                        "sampledValue": [_sv16(*s) for s in SAMPLES[:samples]],
                    }
                ],
            },
        )
        self.stop = call(
            "StopTransaction",
            {
                "transactionId": N("tx"),
                "meterStop": N("e"),
                "timestamp": S("ts"),
                "idTag": S("tag"),
                "reason": "Local",
                "transactionData": [
                    {
                        "timestamp": S("ts"),
                        "sampledValue": [
                            _sv16(*SAMPLES[0][:3], "e2", context="Transaction.End")
                        ],
                    }
                ],
            },
        )


class Frames201:
    version = "2.0.1"
    subprotocol = "ocpp2.0.1"

    def __init__(self, samples: int):
        self.boot = call(
            "BootNotification",
            {
                "reason": "PowerUp",
                "chargingStation": {
                    "model": "Bench-201",
                    "vendorName": "BenchVendor",
                    "serialNumber": S("sn"),
                    "firmwareVersion": "1.0.0",
                },
            },
        )
        self.heartbeat = call("Heartbeat", {})
        self.status = call(
            "StatusNotification",
            {
                "timestamp": S("ts"),
                "connectorStatus": S("st"),
                "evseId": 1,
                "connectorId": 1,
            },
        )
        energy_only = [_sv201(*SAMPLES[0][:3], "e", context="Transaction.Begin")]
        self.started = call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": S("ts"),
                "triggerReason": "Authorized",
                "seqNo": 0,
                "transactionInfo": {
                    "transactionId": S("tx"),
                    "chargingState": "Charging",
                },
                "idToken": {"idToken": S("tag"), "type": "ISO14443"},
                "evse": {"id": 1, "connectorId": 1},
                "meterValue": [{"timestamp": S("ts"), "sampledValue": energy_only}],
            },
        )
        self.updated = call(
            "TransactionEvent",
            {
                "eventType": "Updated",
                "timestamp": S("ts"),
                "triggerReason": "MeterValuePeriodic",
                "seqNo": N("seq"),
                "transactionInfo": {
                    "transactionId": S("tx"),
                    "chargingState": "Charging",
                },
                "meterValue": [
                    {
                        "timestamp": S("ts"),
                        "sampledValue": [_sv201(*s) for s in SAMPLES[:samples]],
                    }
                ],
            },
        )
        self.ended = call(
            "TransactionEvent",
            {
                "eventType": "Ended",
                "timestamp": S("ts"),
                "triggerReason": "StopAuthorized",
                "seqNo": N("seq"),
                "transactionInfo": {
                    "transactionId": S("tx"),
                    "chargingState": "EVConnected",
                    "stoppedReason": "Local",
                },
                "idToken": {"idToken": S("tag"), "type": "ISO14443"},
                "meterValue": [
                    {
                        "timestamp": S("ts"),
                        "sampledValue": [
                            _sv201(*SAMPLES[0][:3], "e", context="Transaction.End")
                        ],
                    }
                ],
            },
        )


# Answers to CSMS -> station CALLs (schema-valid; anything else: Accepted).
ANSWERS = {
    "1.6": {
        "UnlockConnector": {"status": "Unlocked"},
        "GetConfiguration": {"configurationKey": []},
        "GetLocalListVersion": {"listVersion": 0},
        "GetDiagnostics": {},
        "UpdateFirmware": {},
        "GetCompositeSchedule": {"status": "Rejected"},
        "DataTransfer": {"status": "Accepted"},
    },
    "2.0.1": {
        "UnlockConnector": {"status": "Unlocked"},
        "GetLocalListVersion": {"versionNumber": 0},
        "GetTransactionStatus": {"messagesInQueue": False},
        "GetCompositeSchedule": {"status": "Rejected"},
        "GetLog": {"status": "Accepted"},
        "UpdateFirmware": {"status": "Accepted"},
        "CostUpdated": {},
        "GetInstalledCertificateIds": {"status": "NotFound"},
        "GetChargingProfiles": {"status": "NoProfiles"},
    },
}
DEFAULT_ANSWER = {"status": "Accepted"}


def answer_payload(version: str, action: str, payload: dict) -> dict:
    table = ANSWERS[version]
    if action in table:
        return table[action]
    if action == "GetVariables":
        return {
            "getVariableResult": [
                {
                    "attributeStatus": "UnknownVariable",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in payload.get("getVariableData", [])
            ]
        }
    if action == "SetVariables":
        return {
            "setVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in payload.get("setVariableData", [])
            ]
        }
    return DEFAULT_ANSWER


# --------------------------------------------------------------------------- #
# Time
# --------------------------------------------------------------------------- #

_sec_cache: dict[int, str] = {}


def iso_ms(ms: int) -> str:
    sec, rem = divmod(ms, 1000)
    prefix = _sec_cache.get(sec)
    if prefix is None:
        if len(_sec_cache) > 256:
            _sec_cache.clear()
        prefix = _sec_cache[sec] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    return f"{prefix}.{rem:03d}Z"


def now_ms() -> int:
    return int(time.time() * 1000)


# --------------------------------------------------------------------------- #
# Statistics helpers
# --------------------------------------------------------------------------- #


def timeline(by_second: dict[int, list[float]]) -> list[list]:
    """[second, calls, p50, p99, max] per second of the window."""
    rows = []
    for second, values in sorted(by_second.items()):
        q = pct(values)
        rows.append([second, len(values), q["p50"], q["p99"], q["max"]])
    return rows


def pct(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    v = sorted(values)
    n = len(v)

    def q(p):
        return round(v[min(n - 1, max(0, math.ceil(p * n) - 1))], 2)

    return {
        "n": n,
        "p50": q(0.50),
        "p95": q(0.95),
        "p99": q(0.99),
        "p999": q(0.999),
        "max": round(v[-1], 2),
        "mean": round(sum(v) / n, 2),
    }


_CLK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[str, int, float, float] | None:
    """(comm, ppid, own cpu s, reaped-children cpu s)"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    lpar, rpar = data.index("("), data.rindex(")")
    comm = data[lpar + 1 : rpar]
    fields = data[rpar + 2 :].split()
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return comm, ppid, (utime + stime) / _CLK, (cutime + cstime) / _CLK


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Watch:
    """CPU and RSS of a process group, sampled at phase marks.

    ``NAME=pid:1,2`` (those pids), ``NAME=comm:postgres`` (every process of that
    name) or ``NAME=cmdline:csms_bench`` (every process whose command line
    contains the text: e.g. the PostgreSQL backends of one database). The group is
    polled every second, so processes that exit between marks (a backend of a
    closed connection) keep the CPU they used until their last poll.
    """

    def __init__(self, spec: str):
        self.name, _, what = spec.partition("=")
        kind, _, arg = what.partition(":")
        if kind not in ("pid", "comm", "cmdline"):
            raise SystemExit(f"--watch {spec}: use NAME=pid:P,P / comm:X / cmdline:X")
        self.kind = kind
        self.pids = [int(p) for p in arg.split(",") if p] if kind == "pid" else []
        self.arg = arg
        self.cpu: dict[int, float] = {}  # pid -> latest CPU seconds seen
        self.marks: dict[str, dict] = {}

    def _pids(self) -> list[int]:
        if self.kind == "pid":
            return self.pids
        pids = []
        name = "comm" if self.kind == "comm" else "cmdline"
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/{name}", "rb") as f:
                    text = (
                        f.read().replace(b"\0", b" ").decode(errors="replace").strip()
                    )
            except OSError:
                continue
            if (text == self.arg) if self.kind == "comm" else (self.arg in text):
                pids.append(int(entry))
        return pids

    def poll(self) -> list[int]:
        live = []
        for pid in self._pids():
            stat = _proc_stat(pid)
            if stat:
                self.cpu[pid] = stat[2]
                live.append(pid)
        return live

    def sample(self, mark: str) -> None:
        live = self.poll()
        self.marks[mark] = {
            "t": perf(),
            "cpu_s": sum(self.cpu.values()),
            "rss_kb": sum(_rss_kb(p) for p in live),
            "per_pid_cpu_s": {p: self.cpu[p] for p in live}
            if self.kind == "pid"
            else {},
        }

    def delta_cpu(self, a: str, b: str) -> float | None:
        if a in self.marks and b in self.marks:
            return self.marks[b]["cpu_s"] - self.marks[a]["cpu_s"]
        return None


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _CLK


# --------------------------------------------------------------------------- #
# Stations
# --------------------------------------------------------------------------- #

# Connection states
NEW, CONNECTING, OPEN, READY, CLOSED, FAILED = range(6)
# Session phases: what the station sends at its next turn.
IDLE, START, CHG_SN, CHARGING, FIN_SN, AVAIL = range(6)
# Boot steps
B_BOOT, B_SN0, B_SN1, B_DONE = range(4)


class Station:
    __slots__ = (
        "idx",
        "id",
        "v201",
        "frames",
        "url_idx",
        "wsuri",
        "host",
        "port",
        "auth",
        "local_addr",
        "conn",
        "state",
        "attempts",
        "t_first",
        "t_start",
        "t_open",
        "t_accepted",
        "t_ready",
        "boot_step",
        "boot_status",
        "busy",
        "phase",
        "tx",
        "seq",
        "mv_left",
        "wh",
        "wh_start",
        "last_ms",
        "tag",
        "sn",
        "tx_n",
        "closing",
        "frag",
    )

    def __init__(
        self, idx, sid, v201, frames, url_idx, base_url, auth, local_addr, tag
    ):
        self.idx = idx
        self.id = sid
        self.v201 = v201
        self.frames = frames
        self.url_idx = url_idx
        self.wsuri = parse_uri(f"{base_url.rstrip('/')}/{sid}")
        self.host = self.wsuri.host
        self.port = self.wsuri.port
        self.auth = auth
        self.local_addr = local_addr
        self.conn = None
        self.state = NEW
        self.attempts = 0
        self.t_first = self.t_start = self.t_open = None
        self.t_accepted = self.t_ready = None
        self.boot_step = B_BOOT
        self.boot_status = None
        self.busy = None
        self.phase = IDLE
        self.tx = None
        self.seq = 0
        self.mv_left = 0
        self.wh = random.randint(1_000, 5_000_000)
        self.wh_start = 0
        self.last_ms = 0
        self.tag = tag
        self.sn = f"SN-{sid}"[:25]
        self.tx_n = 0
        self.closing = False
        self.frag = None

    def ts(self) -> str:
        """A strictly increasing millisecond timestamp per station (meter values
        are unique per station, time, measurand... in most CSMS databases)."""
        ms = now_ms()
        if ms <= self.last_ms:
            ms = self.last_ms + 1
        self.last_ms = ms
        return iso_ms(ms)


class Conn(asyncio.Protocol):
    """One WebSocket connection: bytes -> websockets sans-I/O -> generator."""

    __slots__ = ("gen", "st", "proto", "transport")

    def __init__(self, gen: Generator, st: Station):
        self.gen = gen
        self.st = st
        self.proto = None
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        st = self.st
        proto = self.proto = ClientProtocol(
            st.wsuri,
            subprotocols=[Subprotocol(st.frames.subprotocol)],
            max_size=2**22,
        )
        request = proto.connect()
        request.headers["Authorization"] = st.auth
        proto.send_request(request)
        self.flush()

    def flush(self) -> None:
        transport = self.transport
        for chunk in self.proto.data_to_send():
            if chunk:
                transport.write(chunk)
            elif transport.can_write_eof():
                transport.write_eof()

    def data_received(self, data: bytes) -> None:
        proto = self.proto
        proto.receive_data(data)
        gen = self.gen
        st = self.st
        for event in proto.events_received():
            if isinstance(event, Frame):
                opcode = event.opcode
                if opcode is Opcode.TEXT:
                    if event.fin:
                        gen.on_text(st, event.data)
                    else:
                        st.frag = bytearray(event.data)
                elif opcode is Opcode.CONT and st.frag is not None:
                    st.frag += event.data
                    if event.fin:
                        data, st.frag = bytes(st.frag), None
                        gen.on_text(st, data)
                elif opcode is Opcode.BINARY:
                    gen.counters["binary_frames"] += 1
            elif isinstance(event, Response):
                gen.on_handshake(st, self, event)
        self.flush()
        if proto.state is State.CLOSED and not self.transport.is_closing():
            self.transport.close()

    def eof_received(self):
        self.proto.receive_eof()
        self.flush()
        return False

    def connection_lost(self, exc) -> None:
        self.gen.on_lost(self.st, self, exc)


# --------------------------------------------------------------------------- #
# The generator
# --------------------------------------------------------------------------- #


class Generator:
    def __init__(self, args):
        self.args = args
        self.loop = asyncio.get_running_loop()
        self.f16 = Frames16(args.samples)
        self.f201 = Frames201(args.samples)
        self.pending: dict[str, tuple] = {}
        # Calls that timed out, kept so that a late answer is still accounted for
        # (the integrity check needs to know what the server did store).
        self.expired: dict[str, tuple] = {}
        self._uid = 0
        self.measuring = False
        self.winding_down = False
        self.counters = Counter()
        self.sent = Counter()  # action -> calls sent (whole run)
        self.ok = Counter()  # action -> CallResults (whole run)
        self.errors = Counter()  # "action:code" -> CallErrors (whole run)
        self.lat: dict[str, list[float]] = {}  # action -> ms, measured window only
        # Second of the window a call was sent in -> ms: shows whether the tail
        # is spread out or comes in stalls.
        self.by_second: dict[int, list[float]] = {}
        self.window_t0 = 0.0
        self.win = Counter()  # measured window: sent/answered/errors/timeouts
        self.data = Counter()  # acknowledged data, for the integrity check
        self.data_sent = Counter()  # the same, sent (acknowledged or not)
        self.csms_calls = Counter()
        self.close_codes = Counter()
        self.refused = Counter()
        self.connect_fail = Counter()
        self.boot_status = Counter()
        self.connect_ms: list[float] = []
        self.boot_ms: list[float] = []
        self.connecting: set[Station] = set()
        self.run_nonce = format(int(time.time()) % 36**5, "x")
        self.t0 = perf()
        self.ready_count = 0
        self.open_count = 0
        self.all_ready = asyncio.Event()
        self.target_ready = 0
        self.retry = False
        self.deadline = None
        self.watches = [Watch(w) for w in args.watch]
        self.machine_marks: dict[str, dict] = {}
        self.stations = self._make_stations()
        self.t_last_accepted = None
        self.t_last_ready = None

    # ---- set-up ---------------------------------------------------------- #

    def _make_stations(self) -> list[Station]:
        a = self.args
        stations = []
        n_ips = a.source_ips or max(1, math.ceil(a.stations / 4000))
        for i in range(a.offset, a.offset + a.stations):
            sid = f"{a.prefix}{i:0{a.digits}d}"
            v201 = (i * 7919 % 100) < a.v201_share * 100
            frames = self.f201 if v201 else self.f16
            url_idx = i % len(a.url)
            token = base64.b64encode(f"{sid}:{a.password}".encode()).decode()
            local = (f"127.0.0.{1 + i % n_ips}", 0) if n_ips > 1 else None
            tag = f"{a.tag_prefix}{i % a.tags:05d}"
            stations.append(
                Station(
                    i,
                    sid,
                    v201,
                    frames,
                    url_idx,
                    a.url[url_idx],
                    f"Basic {token}",
                    local,
                    tag,
                )
            )
        return stations

    def log(self, msg: str) -> None:
        print(f"[loadgen {perf() - self.t0:7.2f}s] {msg}", file=sys.stderr, flush=True)

    def mark(self, name: str) -> None:
        for w in self.watches:
            w.sample(name)
        ru = resource.getrusage(resource.RUSAGE_SELF)
        with open("/proc/loadavg") as f:
            load1 = float(f.read().split()[0])
        self.machine_marks[name] = {
            "t": perf(),
            "busy_s": machine_busy_s(),
            "client_cpu_s": ru.ru_utime + ru.ru_stime,
            "load1": load1,
        }
        self.log(f"PHASE {name}")

    # ---- connecting ------------------------------------------------------ #

    def start_connect(self, st: Station) -> None:
        st.state = CONNECTING
        st.attempts += 1
        st.t_start = perf()
        if st.t_first is None:
            st.t_first = st.t_start
        st.boot_step = B_BOOT
        st.busy = None
        st.phase = IDLE
        st.closing = False
        self.connecting.add(st)
        self.loop.create_task(self._connect(st))

    async def _connect(self, st: Station) -> None:
        conn = Conn(self, st)
        st.conn = conn
        try:
            kwargs = {"local_addr": st.local_addr} if st.local_addr else {}
            await self.loop.create_connection(lambda: conn, st.host, st.port, **kwargs)
        except OSError as exc:
            name = type(exc).__name__
            if exc.errno is not None:
                name = f"{name}:{os.strerror(exc.errno)}"
            self._connect_failed(st, name)

    def _connect_failed(self, st: Station, reason: str) -> None:
        if st.state != CONNECTING:
            return
        self.connecting.discard(st)
        self.connect_fail[reason] += 1
        st.state = FAILED
        if st.conn and st.conn.transport and not st.conn.transport.is_closing():
            st.conn.transport.abort()
        self._maybe_retry(st)

    def _maybe_retry(self, st: Station) -> None:
        if not self.retry or self.winding_down:
            return
        if self.deadline is not None and perf() >= self.deadline:
            return
        delay = min(30.0, 2.0 ** min(st.attempts - 1, 5)) * random.uniform(0.5, 1.0)
        self.counters["retries"] += 1
        self.loop.call_later(delay, self._retry, st)

    def _retry(self, st: Station) -> None:
        if st.state in (FAILED, CLOSED) and not self.winding_down:
            self.start_connect(st)

    def on_handshake(self, st: Station, conn: Conn, response: Response) -> None:
        self.connecting.discard(st)
        if conn.proto.handshake_exc is not None or conn.proto.state is not State.OPEN:
            self.refused[str(response.status_code)] += 1
            st.state = FAILED
            conn.transport.close()
            if response.status_code >= 500 or response.status_code in (429, 503):
                self._maybe_retry(st)
            return
        if conn.proto.subprotocol != st.frames.subprotocol:
            self.refused[f"subprotocol:{conn.proto.subprotocol}"] += 1
            st.state = FAILED
            conn.transport.close()
            return
        st.state = OPEN
        st.t_open = perf()
        self.open_count += 1
        self.connect_ms.append((st.t_open - st.t_start) * 1000)
        self._send_boot(st)

    def on_lost(self, st: Station, conn: Conn, exc) -> None:
        if st.conn is not conn:
            return
        self.connecting.discard(st)
        proto = conn.proto
        if st.state in (OPEN, READY):
            self.open_count -= 1
            if st.state == READY:
                self.ready_count -= 1
            if not st.closing:
                self.counters["disconnects"] += 1
                code = proto.close_code if proto is not None else None
                self.close_codes[str(code)] += 1
                if self.measuring:
                    self.win["disconnects"] += 1
            if st.busy is not None:
                entry = self.pending.pop(st.busy, None)
                if entry is not None:
                    self.counters["lost_in_flight"] += 1
                    self.counters[f"lost_in_flight:{entry[1]}"] += 1
                st.busy = None
            st.state = CLOSED
            if not st.closing and self.args.reconnect:
                self._maybe_retry(st)
        elif st.state == CONNECTING:
            self._connect_failed(st, "closed during handshake")

    # ---- sending --------------------------------------------------------- #

    def _call(
        self,
        st: Station,
        action: str,
        text: str,
        uid: str,
        samples: int = 0,
        kind: str = "",
    ) -> None:
        conn = st.conn
        proto = conn.proto
        if proto.state is not State.OPEN:  # the server is closing it
            self.counters["send_on_closing_connection"] += 1
            return
        proto.send_text(text.encode())
        conn.transport.write(b"".join(proto.data_to_send()))
        self.pending[uid] = (st, action, perf(), self.measuring, samples, kind)
        st.busy = uid
        self.sent[action] += 1
        if samples:
            self.data_sent["sampled_values"] += samples
        if kind and st.v201:
            self.data_sent["tx_events"] += 1
        if self.measuring:
            self.win["sent"] += 1

    def _next_uid(self) -> str:
        self._uid += 1
        return str(self._uid)

    def _send_boot(self, st: Station) -> None:
        uid = self._next_uid()
        f = st.frames
        self._call(
            st, f"{f.version}:BootNotification", f.boot.render(u=uid, sn=st.sn), uid
        )

    def _send_status(self, st: Station, status: str, connector: int = 1) -> None:
        uid = self._next_uid()
        f = st.frames
        text = f.status.render(u=uid, c=connector, st=status, ts=st.ts())
        self._call(st, f"{f.version}:StatusNotification", text, uid)

    def _send_heartbeat(self, st: Station) -> None:
        uid = self._next_uid()
        f = st.frames
        self._call(st, f"{f.version}:Heartbeat", f.heartbeat.render(u=uid), uid)

    def _meter_values(self, st: Station) -> dict:
        p = random.randint(3_000, 22_000)
        st.wh += p // 360 + 1  # about 10 s of charging at p W
        return {
            "e": st.wh,
            "p": p,
            "i": f"{p / 690:.1f}",
            "soc": min(100, 20 + st.seq * 2),
            "v": "230.0",
            "io": 32,
        }

    def tick(self, st: Station) -> None:
        """The station's turn: send whatever its session needs next."""
        phase = st.phase
        f = st.frames
        if phase == IDLE:
            if self.winding_down:
                return
            if random.random() < self.args.start_prob:
                st.phase = START
                self._send_status(st, "Occupied" if st.v201 else "Preparing")
            else:
                self._send_heartbeat(st)
        elif phase == START:
            if self.winding_down:
                st.phase = AVAIL
                return self.tick(st)
            uid = self._next_uid()
            st.wh_start = st.wh
            n = self.args.session_meter_values
            # Uniform in 1..2n-1 (mean n): sessions that started together (all
            # stations start one soon after connecting) don't end in lockstep.
            st.mv_left = random.randint(1, 2 * n - 1) if self.args.session_jitter else n
            st.seq = 0
            if st.v201:
                st.tx_n += 1
                st.tx = f"{self.run_nonce}-{st.idx}-{st.tx_n}"
                text = f.started.render(
                    u=uid, ts=st.ts(), tx=st.tx, tag=st.tag, e=st.wh
                )
                st.phase = CHARGING
                self.data_sent["tx_started"] += 1
                self._call(st, "2.0.1:TransactionEvent.Started", text, uid, 1, "start")
            else:
                text = f.start.render(u=uid, tag=st.tag, e=st.wh, ts=st.ts())
                st.phase = CHG_SN
                self.data_sent["tx_started"] += 1
                self._call(st, "1.6:StartTransaction", text, uid, 0, "start")
        elif phase == CHG_SN:
            st.phase = CHARGING
            self._send_status(st, "Charging")
        elif phase == CHARGING:
            uid = self._next_uid()
            if st.mv_left > 0 and not self.winding_down:
                st.mv_left -= 1
                st.seq += 1
                values = self._meter_values(st)
                k = self.args.samples
                self.data_sent["meter_value_messages"] += 1
                if st.v201:
                    text = f.updated.render(
                        u=uid, ts=st.ts(), seq=st.seq, tx=st.tx, **values
                    )
                    self._call(st, "2.0.1:TransactionEvent.Updated", text, uid, k, "mv")
                else:
                    text = f.meter.render(u=uid, tx=st.tx, ts=st.ts(), **values)
                    self._call(st, "1.6:MeterValues", text, uid, k, "mv")
            else:
                st.seq += 1
                self.data_sent["tx_stopped"] += 1
                if st.v201:
                    text = f.ended.render(
                        u=uid, ts=st.ts(), seq=st.seq, tx=st.tx, tag=st.tag, e=st.wh
                    )
                    st.phase = AVAIL
                    self._call(st, "2.0.1:TransactionEvent.Ended", text, uid, 1, "stop")
                else:
                    ts = st.ts()
                    text = f.stop.render(
                        u=uid, tx=st.tx, e=st.wh, ts=ts, tag=st.tag, e2=st.wh
                    )
                    st.phase = FIN_SN
                    self._call(st, "1.6:StopTransaction", text, uid, 1, "stop")
        elif phase == FIN_SN:
            st.phase = AVAIL
            self._send_status(st, "Finishing")
        elif phase == AVAIL:
            st.phase = IDLE
            self._send_status(st, "Available")

    # ---- receiving ------------------------------------------------------- #

    def on_text(self, st: Station, data: bytes) -> None:
        try:
            msg = _loads(data)
            kind = msg[0]
        except Exception:
            self.counters["unparseable_frames"] += 1
            return
        if kind == 3 or kind == 4:
            entry = self.pending.pop(msg[1], None)
            if entry is None:
                self._on_late(msg, kind)
                return
            _st, action, t0, measured, samples, what = entry
            ms = (perf() - t0) * 1000.0
            if st.busy == msg[1]:
                st.busy = None
            if measured:
                self.win["answered"] += 1
                lst = self.lat.get(action)
                if lst is None:
                    lst = self.lat[action] = []
                lst.append(ms)
                second = int(t0 - self.window_t0)
                per_second = self.by_second.get(second)
                if per_second is None:
                    per_second = self.by_second[second] = []
                per_second.append(ms)
            if kind == 3:
                self.ok[action] += 1
                self._on_result(st, action, msg[2], samples, what, ms)
            else:
                code = msg[2] if len(msg) > 2 else "?"
                self.errors[f"{action}:{code}"] += 1
                if measured:
                    self.win["errors"] += 1
                self._on_error(st, action, what)
        elif kind == 2:
            self._on_csms_call(st, msg)
        else:
            self.counters["unexpected_frames"] += 1

    def _on_result(self, st, action, payload, samples, what, ms) -> None:
        if what:
            if what == "mv":
                self.data["meter_value_messages"] += 1
            elif what == "start":
                self.data["tx_started"] += 1
                if not st.v201:
                    st.tx = payload.get("transactionId")
                    status = (payload.get("idTagInfo") or {}).get("status")
                    self.counters[f"start_id_tag:{status}"] += 1
                else:
                    status = (payload.get("idTokenInfo") or {}).get("status")
                    if status:
                        self.counters[f"start_id_token:{status}"] += 1
            elif what == "stop":
                self.data["tx_stopped"] += 1
                self.data["energy_wh"] += st.wh - st.wh_start
            if st.v201:
                self.data["tx_events"] += 1
            if samples:
                self.data["sampled_values"] += samples
        elif st.boot_step != B_DONE:
            self._boot_progress(st, action, payload, ms)

    def _on_late(self, msg: list, kind: int) -> None:
        """An answer after its call timed out: the station has moved on, but what
        the server stored (a CallResult) still counts for the integrity check."""
        entry = self.expired.pop(msg[1], None)
        if entry is None:
            self.counters["unknown_answers"] += 1
            return
        st, action, t0, measured, samples, what = entry
        self.counters["late_answers"] += 1
        if kind != 3:
            self.errors[f"{action}:{msg[2] if len(msg) > 2 else '?'}(late)"] += 1
            return
        self.ok[action] += 1
        if what:
            self.counters["late_data_answers"] += 1
            if what == "mv":
                self.data["meter_value_messages"] += 1
            elif what == "start":
                self.data["tx_started"] += 1
            elif what == "stop":
                self.data["tx_stopped"] += 1
                self.data["energy_wh"] += st.wh - st.wh_start
            if st.v201:
                self.data["tx_events"] += 1
            if samples:
                self.data["sampled_values"] += samples

    def _on_error(self, st, action, what) -> None:
        if what == "start" and not st.v201:
            st.phase = AVAIL  # no transaction: tell the CSMS the connector is free
        elif what == "start" and st.v201:
            st.phase = AVAIL
        elif st.boot_step == B_BOOT:
            self.boot_status["CallError"] += 1

    def _boot_progress(self, st, action, payload, ms) -> None:
        step = st.boot_step
        if step == B_BOOT:
            status = payload.get("status", "?")
            st.boot_status = status
            self.boot_status[status] += 1
            self.boot_ms.append(ms)
            if status != "Accepted":
                if status == "Pending" and not self.winding_down:
                    delay = min(float(payload.get("interval") or 5), 5.0)
                    self.loop.call_later(delay, self._reboot, st)
                return
            st.t_accepted = perf()
            self.t_last_accepted = st.t_accepted
            if not self.args.boot_status:
                st.boot_step = B_SN1
                return self._boot_progress(st, action, payload, ms)
            st.boot_step = B_SN0
            if st.v201:
                st.boot_step = B_SN1
                self._send_status(st, "Available", 1)
            else:
                self._send_status(st, "Available", 0)
        elif step == B_SN0:
            st.boot_step = B_SN1
            self._send_status(st, "Available", 1)
        elif step == B_SN1:
            st.boot_step = B_DONE
            st.state = READY
            st.t_ready = perf()
            self.t_last_ready = st.t_ready
            self.ready_count += 1
            if self.ready_count >= self.target_ready:
                self.all_ready.set()

    def _reboot(self, st: Station) -> None:
        if st.state == OPEN and st.busy is None:
            self._send_boot(st)

    def _on_csms_call(self, st: Station, msg: list) -> None:
        try:
            _, uid, action, payload = msg
        except ValueError:
            self.counters["bad_csms_calls"] += 1
            return
        self.csms_calls[action] += 1
        answer = answer_payload(st.frames.version, action, payload)
        text = json.dumps([3, uid, answer], separators=(",", ":"))
        conn = st.conn
        if conn.proto.state is not State.OPEN:
            self.counters["csms_calls_unanswered_closing"] += 1
            return
        conn.proto.send_text(text.encode())
        conn.transport.write(b"".join(conn.proto.data_to_send()))

    # ---- housekeeping ---------------------------------------------------- #

    async def housekeeping(self) -> None:
        a = self.args
        next_poll = perf() + 1.0
        while True:
            await asyncio.sleep(0.25)
            now = perf()
            if now >= next_poll:
                next_poll = now + 1.0
                for w in self.watches:
                    if w.kind != "pid":
                        w.poll()
            # Pending calls are in send order: stop at the first that is not late.
            limit = now - a.call_timeout
            expired = []
            for uid, entry in self.pending.items():
                if entry[2] > limit:
                    break
                expired.append(uid)
            for uid in expired:
                entry = self.pending.pop(uid)
                self.expired[uid] = entry
                st, action, t0, measured, samples, what = entry
                self.counters["timeouts"] += 1
                self.counters[f"timeouts:{action}"] += 1
                if measured:
                    self.win["timeouts"] += 1
                if st.busy == uid:
                    st.busy = None
                if what == "start":
                    st.phase = AVAIL
            # Handshakes that never finish.
            limit = now - a.connect_timeout
            for st in [s for s in self.connecting if s.t_start < limit]:
                self._connect_failed(st, "timeout")

    # ---- phases ---------------------------------------------------------- #

    async def connect_all(self, stations: list[Station], ramp: float) -> float:
        """Connect and boot ``stations`` at ``ramp``/s (0: all at once)."""
        t_begin = perf()
        self.target_ready = self.ready_count + len(stations)
        self.all_ready.clear()
        if ramp <= 0:
            for st in stations:
                self.start_connect(st)
        else:
            for k, st in enumerate(stations):
                target = t_begin + k / ramp
                delay = target - perf()
                if delay > 0.002:
                    await asyncio.sleep(delay)
                self.start_connect(st)
        timeout = self.args.connect_phase_timeout
        try:
            await asyncio.wait_for(self.all_ready.wait(), timeout)
        except TimeoutError:
            self.log(
                f"connect phase: {self.ready_count}/{self.target_ready} ready "
                f"after {timeout}s; going on"
            )
        return t_begin

    async def traffic(
        self, rate: float, duration: float, warmup: float, commands=None
    ) -> dict:
        """Fire ready stations round-robin at ``rate`` msg/s for warmup+duration."""
        order = [s for s in self.stations if s.state == READY]
        random.shuffle(order)
        n = len(order)
        result = {
            "stations": n,
            "target_rate": rate,
            "duration_s": duration,
            "warmup_s": warmup,
        }
        if n == 0 or rate <= 0:
            await asyncio.sleep(warmup + duration)
            return result
        t_begin = perf()
        fired = 0
        i = 0
        measuring_started = False
        cmd_task = None
        tick = self.args.tick
        while True:
            now = perf()
            elapsed = now - t_begin
            if not measuring_started and elapsed >= warmup:
                measuring_started = True
                self.measuring = True
                self.mark("window_start")
                t_window = self.window_t0 = perf()
                if commands is not None:
                    cmd_task = asyncio.ensure_future(commands.run(duration))
            if elapsed >= warmup + duration:
                break
            due = int(elapsed * rate) - fired
            while due > 0:
                due -= 1
                fired += 1
                st = order[i]
                i += 1
                if i == n:
                    i = 0
                if st.state != READY:
                    if measuring_started:
                        self.win["skipped_closed"] += 1
                    continue
                if st.busy is not None:
                    if measuring_started:
                        self.win["skipped_busy"] += 1
                    continue
                self.tick(st)
            await asyncio.sleep(tick)
        self.measuring = False
        t_end = perf()
        self.mark("window_end")
        if cmd_task is not None:
            await cmd_task
        result["window_s"] = round(t_end - t_window, 3)
        return result

    async def wind_down(self, timeout: float) -> None:
        """End every open session (Stop + statuses) so the database is final.

        First the window's calls still in flight get their answers: the
        wind-down's burst (a call for every station in a session) queued in
        front of them added its time to theirs (0.9 s in ``held``'s last
        second).
        """
        deadline = perf() + timeout
        while perf() < deadline and any(
            measured for _, _, _, measured, *_ in self.pending.values()
        ):
            await asyncio.sleep(0.01)
        self.winding_down = True
        while perf() < deadline:
            active = 0
            for st in self.stations:
                if st.state != READY:
                    continue
                if st.phase != IDLE or st.busy is not None:
                    active += 1
                    if st.busy is None:
                        self.tick(st)
            if active == 0:
                break
            await asyncio.sleep(0.02)
        # Whatever is still in flight gets its answer or times out.
        while self.pending and perf() < deadline:
            await asyncio.sleep(0.05)
        open_sessions = sum(1 for s in self.stations if s.phase != IDLE)
        self.counters["sessions_left_open"] = open_sessions

    async def close_all(self) -> None:
        for st in self.stations:
            conn = st.conn
            if conn is None or conn.transport is None or conn.transport.is_closing():
                continue
            st.closing = True
            try:
                if conn.proto.state is State.OPEN:
                    conn.proto.send_close(1000)
                    conn.flush()
                else:
                    conn.transport.close()
            except Exception:
                conn.transport.abort()
        t_end = perf() + 5
        while perf() < t_end and any(
            s.conn and s.conn.transport and not s.conn.transport.is_closing()
            for s in self.stations
        ):
            await asyncio.sleep(0.05)
        for st in self.stations:
            if st.conn and st.conn.transport and not st.conn.transport.is_closing():
                st.conn.transport.abort()
        await asyncio.sleep(0.1)


# --------------------------------------------------------------------------- #
# Commands: REST API -> CSMS -> station -> CSMS -> REST API
# --------------------------------------------------------------------------- #


class HttpAnswer:
    __slots__ = ("status_code", "body")

    def __init__(self, status_code: int, body: bytes):
        self.status_code = status_code
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class HttpPool:
    """A lean HTTP/1.1 client: keep-alive connections, JSON POSTs.

    httpx added 1.3 ms to each command's round trip (p50 1.86 -> 0.54 ms
    against bench/echo_csms.py), on the core that also drives the stations. This
    reads what the API sends (Content-Length or chunked bodies) and nothing
    more; a connection with an error is dropped, not reused.
    """

    # Reuse a connection idle for less than this: uvicorn closes one idle
    # for 5 s, and a request sent as it closes is lost.
    KEEP_ALIVE_S = 4.0

    def __init__(self, timeout: float, limit: int = 200):
        self.timeout = timeout
        self.idle: dict[tuple[str, int], list] = {}
        self.slots = asyncio.Semaphore(limit)

    async def post(self, url: str, json: dict, headers: dict) -> HttpAnswer:
        async with self.slots:
            return await asyncio.wait_for(self._post(url, json, headers), self.timeout)

    async def _post(self, url: str, body_obj: dict, headers: dict) -> HttpAnswer:
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        key = (parts.hostname, parts.port or (443 if tls else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body = json.dumps(body_obj, separators=(",", ":")).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"POST {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        reader, writer = self._idle_connection(key)
        if writer is None:
            # ssl=True: the default TLS context
            reader, writer = await asyncio.open_connection(*key, ssl=tls or None)
        try:
            writer.write(request)
            answer, keep = await self._read(reader)
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.setdefault(key, []).append((reader, writer, perf()))
        else:
            writer.close()
        return answer

    def _idle_connection(self, key: tuple[str, int]) -> tuple:
        """The most recently used connection the server has not closed."""
        pool = self.idle.get(key, [])
        while pool:
            reader, writer, since = pool.pop()
            if perf() - since < self.KEEP_ALIVE_S and not reader.at_eof():
                return reader, writer
            writer.close()
        return None, None

    @staticmethod
    async def _read(reader) -> tuple[HttpAnswer, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                fields[name.strip().lower()] = value.strip().lower()
        if "content-length" in fields:
            body = await reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding") == "chunked":
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(p[:-2] for p in parts)
        else:
            body = await reader.read()
            return HttpAnswer(status, body), False
        return HttpAnswer(status, body), fields.get("connection") != "close"

    def close(self) -> None:
        for pool in self.idle.values():
            for _, writer, _ in pool:
                writer.close()
        self.idle.clear()


class Commands:
    def __init__(self, gen: Generator, args):
        self.gen = gen
        self.args = args
        self.lat: list[float] = []
        self.by_second: dict[int, list[float]] = {}  # as Generator.by_second
        self.status = Counter()
        self.station_status = Counter()
        self.skipped = None
        self.errors_sample: list[str] = []
        self.api_urls = args.api_url or [
            u.replace("ws://", "http://")
            .replace("wss://", "https://")
            .split("/ocpp")[0]
            for u in args.url
        ]

    def _auth(self) -> dict:
        a = self.args
        if a.api_key:
            return {"Authorization": f"Api-Key {a.api_key}"}
        if a.jwt:
            return {"Authorization": f"Bearer {a.jwt}"}
        return {}

    def _api_for(self, st: Station) -> str:
        k = len(self.api_urls)
        # With several processes, ask a process that does not hold the station.
        return self.api_urls[(st.url_idx + 1) % k if k > 1 else 0]

    def _request(self, st: Station) -> tuple[str, dict]:
        url = f"{self._api_for(st)}/api/v1/charge-points/{st.id}/commands/"
        return url, {"action": self.args.command_action, "payload": {}}

    async def probe(self, client) -> bool:
        ready = [s for s in self.gen.stations if s.state == READY]
        if not ready:
            self.skipped = "no connected station to send a command to"
            return False
        url, body = self._request(ready[0])
        try:
            r = await client.post(url, json=body, headers=self._auth())
        except Exception as exc:
            self.skipped = f"API not reachable: {exc!r}"
            return False
        if r.status_code in (404, 405):
            self.skipped = (
                f"commands endpoint not available: POST {url} -> {r.status_code} "
                f"{r.text[:200]!r} (API.md 'Commands' not implemented yet?)"
            )
            return False
        if r.status_code in (401, 403):
            self.skipped = (
                f"API refused the credentials: {r.status_code} {r.text[:200]!r}"
            )
            return False
        return True

    async def _one(self, client, st: Station) -> None:
        url, body = self._request(st)
        t0 = perf()
        try:
            r = await client.post(url, json=body, headers=self._auth())
            code = r.status_code
            ms = (perf() - t0) * 1000
            self.status[str(code)] += 1
            if code == 200:
                self.lat.append(ms)
                second = int(t0 - self.gen.window_t0)
                self.by_second.setdefault(second, []).append(ms)
                try:
                    self.station_status[str(r.json().get("status"))] += 1
                except Exception:
                    self.station_status["unparseable"] += 1
            elif len(self.errors_sample) < 5:
                self.errors_sample.append(f"{code} {r.text[:200]}")
        except Exception as exc:
            self.status[type(exc).__name__] += 1

    async def run(self, duration: float) -> None:
        client = HttpPool(self.args.command_timeout)
        try:
            if not await self.probe(client):
                self.gen.log(f"commands skipped: {self.skipped}")
                return
            rate = self.args.command_rate
            t_begin = perf()
            sent = 0
            tasks = set()
            while perf() - t_begin < duration:
                due = int((perf() - t_begin) * rate) - sent
                for _ in range(due):
                    sent += 1
                    ready = [
                        s
                        for s in random.sample(
                            self.gen.stations, min(20, len(self.gen.stations))
                        )
                        if s.state == READY
                    ]
                    if not ready:
                        self.status["no_ready_station"] += 1
                        continue
                    task = asyncio.ensure_future(self._one(client, ready[0]))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                await asyncio.sleep(0.005)
            if tasks:
                await asyncio.wait(tasks, timeout=self.args.command_timeout + 5)
        finally:
            client.close()

    def summary(self, duration: float) -> dict:
        if self.skipped:
            return {"skipped": self.skipped}
        total = sum(self.status.values())
        return {
            "action": self.args.command_action,
            "target_rate": self.args.command_rate,
            "sent": total,
            "ok": len(self.lat),
            "achieved_rate": round(len(self.lat) / duration, 1) if duration else None,
            "http_status": dict(self.status),
            "station_status": dict(self.station_status),
            "latency_ms": pct(self.lat),
            "error_samples": self.errors_sample,
            "timeline": timeline(self.by_second),
        }


# --------------------------------------------------------------------------- #
# Main
# --------------------------------------------------------------------------- #


def raise_fd_limit(need: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, need)
    if hard != resource.RLIM_INFINITY and want > hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            want = hard
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _machine_summary(gen: Generator) -> dict:
    """How busy the whole machine was in the window, and how much of that was
    neither the watched processes nor the generator (other work skews latency)."""
    m = gen.machine_marks
    if "window_start" not in m or "window_end" not in m:
        return {}
    a, b = m["window_start"], m["window_end"]
    span = b["t"] - a["t"]
    busy = b["busy_s"] - a["busy_s"]
    client = b["client_cpu_s"] - a["client_cpu_s"]
    watched = sum((w.delta_cpu("window_start", "window_end") or 0) for w in gen.watches)
    cores = os.cpu_count() or 1
    return {
        "cores": cores,
        "busy_pct_of_all_cores": round(100 * busy / (span * cores), 1)
        if span
        else None,
        "client_cpu_pct_of_one_core": round(100 * client / span, 1) if span else None,
        "other_processes_cpu_pct_of_one_core": round(
            100 * max(0.0, busy - client - watched) / span, 1
        )
        if span
        else None,
        "load1_start_end": [a["load1"], b["load1"]],
    }


def _watch_summary(gen: Generator, window_msgs: int, idle_n: int) -> dict:
    out = {}
    for w in gen.watches:
        entry = {"marks_rss_kb": {k: v["rss_kb"] for k, v in w.marks.items()}}
        cpu = w.delta_cpu("window_start", "window_end")
        if cpu is not None:
            span = w.marks["window_end"]["t"] - w.marks["window_start"]["t"]
            entry["window_cpu_s"] = round(cpu, 3)
            entry["window_cpu_pct_of_one_core"] = (
                round(100 * cpu / span, 1) if span else None
            )
            if window_msgs:
                entry["cpu_ms_per_msg"] = round(1000 * cpu / window_msgs, 4)
            per = {}
            a = w.marks["window_start"]["per_pid_cpu_s"]
            b = w.marks["window_end"]["per_pid_cpu_s"]
            for pid in b:
                if pid in a:
                    per[str(pid)] = round(b[pid] - a[pid], 3)
            if per:
                entry["window_cpu_s_per_pid"] = per
        if (
            "baseline" in w.marks
            and "connected" in w.marks
            and idle_n
            and w.kind == "pid"
        ):
            grow = w.marks["connected"]["rss_kb"] - w.marks["baseline"]["rss_kb"]
            entry["rss_growth_kb"] = grow
            entry["rss_kib_per_station"] = round(grow / idle_n, 2)
        out[w.name] = entry
    return out


async def amain(args) -> dict:
    gen = Generator(args)
    scenario = args.scenario
    gen.retry = args.retry if args.retry is not None else scenario == "storm"
    hk = asyncio.ensure_future(gen.housekeeping())
    stations = gen.stations
    warm_n = min(args.warm, len(stations)) if scenario != "storm" else 0
    ramp = 0.0 if scenario == "storm" else args.ramp
    gen.log(
        f"scenario={scenario} stations={len(stations)} urls={args.url} "
        f"v201_share={args.v201_share} ramp={ramp or 'all at once'}"
    )

    # 1. a few warm stations (lazy imports, DB connections), then the baseline.
    if warm_n:
        await gen.connect_all(stations[:warm_n], 200)
        await asyncio.sleep(1.0)
    gen.mark("baseline")

    # 2. connect and boot the rest.
    rest = stations[warm_n:]
    if gen.retry and args.connect_phase_timeout:
        gen.deadline = perf() + args.connect_phase_timeout
    t_begin = await gen.connect_all(rest, ramp)
    t_connected = perf()
    connect = {
        "attempted": len(rest),
        "ramp_per_s": ramp or "all at once",
        "opened": sum(1 for s in rest if s.t_open is not None),
        "accepted": sum(1 for s in rest if s.t_accepted is not None),
        "ready": sum(1 for s in rest if s.state == READY),
        "time_to_all_accepted_s": round(gen.t_last_accepted - t_begin, 3)
        if gen.t_last_accepted and all(s.t_accepted for s in rest)
        else None,
        "time_to_all_ready_s": round(gen.t_last_ready - t_begin, 3)
        if gen.t_last_ready and all(s.state == READY for s in rest)
        else None,
        "phase_s": round(t_connected - t_begin, 3),
        "refused_http": dict(gen.refused),
        "connect_failures": dict(gen.connect_fail),
        "retries": gen.counters["retries"],
        "boot_status": dict(gen.boot_status),
        "connect_ms": pct(gen.connect_ms),
        "boot_rtt_ms": pct(gen.boot_ms),
        "accepted_after_s": pct(
            [(s.t_accepted - t_begin) for s in rest if s.t_accepted]
        ),
    }
    gen.log(
        f"connected: {gen.ready_count} ready, {gen.open_count} open "
        f"in {t_connected - t_begin:.1f}s"
    )
    await asyncio.sleep(args.settle)
    gc.collect()
    gc.freeze()
    gen.mark("connected")
    # Memory per station: every station whose WebSocket is open counts.
    idle_n = sum(1 for s in rest if s.state in (OPEN, READY))
    connect["open_at_connected_mark"] = idle_n

    # 3. traffic.
    if scenario == "sweep":
        return await sweep(gen, args, connect, stations, idle_n)
    commands = Commands(gen, args) if scenario == "commands" else None
    rate = args.rate if scenario in ("steady", "commands", "idle", "storm") else 0
    duration = args.duration
    traffic = await gen.traffic(
        rate, duration, args.warmup if rate > 0 else 0, commands
    )
    window_s = traffic.get("window_s", duration)

    # 4. finish sessions, close.
    gen.mark("winddown")
    await gen.wind_down(args.winddown_timeout)
    gen.mark("end")
    await gen.close_all()
    hk.cancel()

    all_lat = [x for v in gen.lat.values() for x in v]
    answered = gen.win["answered"]
    win = dict(gen.win)
    traffic.update(
        {
            "sent": gen.win["sent"],
            "answered": answered,
            "sent_rate": round(gen.win["sent"] / window_s, 1) if window_s else None,
            "achieved_rate": round(answered / window_s, 1) if window_s else None,
            "errors": gen.win["errors"],
            "timeouts": gen.win["timeouts"],
            "disconnects": gen.win["disconnects"],
            "skipped_busy": gen.win["skipped_busy"],
            "skipped_closed": gen.win["skipped_closed"],
            "latency_ms": pct(all_lat),
            "by_action": {
                k: {"answered": len(v), **{q: x for q, x in pct(v).items() if q != "n"}}
                for k, v in sorted(gen.lat.items())
            },
            "window_counters": win,
            "timeline": timeline(gen.by_second),
        }
    )
    ru = resource.getrusage(resource.RUSAGE_SELF)
    summary = {
        "scenario": scenario,
        "config": {
            "stations": len(stations),
            "urls": args.url,
            "v201_share": args.v201_share,
            "rate": rate,
            "duration_s": duration,
            "warmup_s": args.warmup,
            "samples_per_meter_value": args.samples,
            "session_meter_values": args.session_meter_values,
            "start_prob": args.start_prob,
            "call_timeout_s": args.call_timeout,
            "warm_stations": warm_n,
        },
        "connect": connect,
        "traffic": traffic,
        "whole_run": {
            "calls_sent": dict(gen.sent),
            "call_results": dict(gen.ok),
            "call_errors": dict(gen.errors),
            "counters": dict(gen.counters),
            "close_codes": dict(gen.close_codes),
            "csms_calls": dict(gen.csms_calls),
        },
        "data_acknowledged": dict(gen.data),
        "data_sent": dict(gen.data_sent),
        "server": _watch_summary(gen, answered, idle_n),
        "machine": _machine_summary(gen),
        "client": {
            "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
            "max_rss_mb": round(ru.ru_maxrss / 1024, 1),
            "loop": type(asyncio.get_running_loop()).__module__,
        },
    }
    if commands is not None:
        summary["commands"] = commands.summary(window_s)
    return summary


async def sweep(gen: Generator, args, connect: dict, stations, idle_n) -> dict:
    """Steps of increasing rate on the same connected fleet; the answer is the
    highest rate with p99 < --sweep-p99 ms, no errors and no timeouts."""
    steps = []
    best = None
    for rate in [float(r) for r in args.rates.split(",")]:
        gen.lat = {}
        gen.win = Counter()
        res = await gen.traffic(rate, args.duration, args.warmup)
        lat = pct([x for v in gen.lat.values() for x in v])
        window = res.get("window_s") or args.duration
        answered = gen.win["answered"]
        step = {
            "target_rate": rate,
            "achieved_rate": round(answered / window, 1),
            "latency_ms": lat,
            "errors": gen.win["errors"],
            "timeouts": gen.win["timeouts"],
            "skipped_busy": gen.win["skipped_busy"],
            "by_action_p99": {k: pct(v).get("p99") for k, v in sorted(gen.lat.items())},
        }
        step["machine"] = _machine_summary(gen)
        for w in gen.watches:
            cpu = w.delta_cpu("window_start", "window_end")
            if cpu is not None and answered:
                step[f"{w.name}_cpu_ms_per_msg"] = round(1000 * cpu / answered, 4)
                step[f"{w.name}_cpu_pct"] = round(100 * cpu / window, 1)
        steps.append(step)
        gen.log(
            f"sweep {rate:.0f}/s: achieved {step['achieved_rate']}/s p99 "
            f"{lat.get('p99')} ms errors {step['errors']} timeouts {step['timeouts']}"
        )
        ok = (
            lat.get("p99", 1e9) < args.sweep_p99
            and not step["errors"]
            and not step["timeouts"]
            and step["achieved_rate"] >= 0.95 * rate
        )
        if ok:
            best = step["achieved_rate"]
        # Let the queue drain before the next step.
        t_end = perf() + args.call_timeout
        while gen.pending and perf() < t_end:
            await asyncio.sleep(0.1)
        if (
            lat.get("p99", 1e9) > args.sweep_stop_p99
            or step["achieved_rate"] < 0.8 * rate
        ):
            break
    gen.mark("winddown")
    await gen.wind_down(args.winddown_timeout)
    gen.mark("end")
    await gen.close_all()
    return {
        "scenario": "sweep",
        "config": {
            "stations": len(stations),
            "urls": args.url,
            "rates": args.rates,
            "step_s": args.duration,
            "warmup_s": args.warmup,
            "v201_share": args.v201_share,
            "p99_limit_ms": args.sweep_p99,
        },
        "connect": connect,
        "max_rate_within_p99_limit": best,
        "steps": steps,
        "whole_run": {
            "calls_sent": dict(gen.sent),
            "call_results": dict(gen.ok),
            "call_errors": dict(gen.errors),
            "counters": dict(gen.counters),
        },
        "data_acknowledged": dict(gen.data),
        "data_sent": dict(gen.data_sent),
    }


# --------------------------------------------------------------------------- #
# Self-check against the OCPP JSON schemas
# --------------------------------------------------------------------------- #


def selfcheck(schema_dir: str, samples: int) -> int:
    import jsonschema

    def schema(version: str, action: str, response: bool):
        if version == "1.6":
            name = f"{action}Response.json" if response else f"{action}.json"
            path = os.path.join(schema_dir, "v16", name)
        else:
            name = f"{action}{'Response' if response else 'Request'}.json"
            path = os.path.join(schema_dir, "v201", name)
        with open(path) as f:
            return json.load(f)

    failures = 0
    checked = 0

    def check(version, text):
        nonlocal failures, checked
        frame = json.loads(text)
        assert frame[0] == 2 and isinstance(frame[1], str) and len(frame[1]) <= 36
        s = schema(version, frame[2], False)
        try:
            jsonschema.Draft7Validator(
                s, format_checker=jsonschema.FormatChecker()
            ).validate(frame[3])
            checked += 1
        except jsonschema.ValidationError as e:
            failures += 1
            print(f"INVALID {version} {frame[2]}: {e.message}\n  {text}")

    ts = iso_ms(now_ms())
    for k in range(1, len(SAMPLES) + 1):
        f16, f201 = Frames16(k), Frames201(k)
        values = {"e": 12345, "p": 7000, "i": "10.1", "soc": 50, "v": "230.0", "io": 32}
        check("1.6", f16.boot.render(u="1", sn="SN-X"))
        check("1.6", f16.heartbeat.render(u="1"))
        for c, status in (
            (0, "Available"),
            (1, "Preparing"),
            (1, "Charging"),
            (1, "Finishing"),
            (1, "Available"),
        ):
            check("1.6", f16.status.render(u="1", c=c, st=status, ts=ts))
        check("1.6", f16.start.render(u="1", tag="BTAG00001", e=12345, ts=ts))
        check("1.6", f16.meter.render(u="1", tx=42, ts=ts, **values))
        check(
            "1.6",
            f16.stop.render(u="1", tx=42, e=12399, ts=ts, tag="BTAG00001", e2=12399),
        )
        check("2.0.1", f201.boot.render(u="1", sn="SN-X"))
        check("2.0.1", f201.heartbeat.render(u="1"))
        for status in ("Available", "Occupied"):
            check("2.0.1", f201.status.render(u="1", st=status, ts=ts))
        check(
            "2.0.1",
            f201.started.render(u="1", ts=ts, tx="abc-1-1", tag="BTAG00001", e=12345),
        )
        check("2.0.1", f201.updated.render(u="1", ts=ts, seq=3, tx="abc-1-1", **values))
        check(
            "2.0.1",
            f201.ended.render(
                u="1", ts=ts, seq=4, tx="abc-1-1", tag="BTAG00001", e=12399
            ),
        )
    # Our answers to CSMS calls.
    for version, sub in (("1.6", "v16"), ("2.0.1", "v201")):
        suffix = ".json" if version == "1.6" else "Request.json"
        for name in sorted(os.listdir(os.path.join(schema_dir, sub))):
            if "Response" in name:
                continue
            action = name[: -len(suffix)] if name.endswith(suffix) else None
            if not action:
                continue
            try:
                s = schema(version, action, True)
            except OSError:
                continue
            payload = {}
            if action == "GetVariables":
                payload = {
                    "getVariableData": [
                        {"component": {"name": "X"}, "variable": {"name": "Y"}}
                    ]
                }
            if action == "SetVariables":
                payload = {
                    "setVariableData": [
                        {
                            "component": {"name": "X"},
                            "variable": {"name": "Y"},
                            "attributeValue": "1",
                        }
                    ]
                }
            answer = answer_payload(version, action, payload)
            try:
                jsonschema.Draft7Validator(s).validate(answer)
                checked += 1
            except jsonschema.ValidationError:
                # Only CSMS -> station actions matter; station -> CSMS ones fail here
                # by design (we never receive them).
                pass
    for version, actions in (
        (
            "1.6",
            [
                "ClearCache",
                "ChangeAvailability",
                "Reset",
                "RemoteStartTransaction",
                "RemoteStopTransaction",
                "UnlockConnector",
                "TriggerMessage",
                "ChangeConfiguration",
                "GetConfiguration",
                "SetChargingProfile",
                "ClearChargingProfile",
                "DataTransfer",
                "ReserveNow",
                "CancelReservation",
                "SendLocalList",
                "GetLocalListVersion",
            ],
        ),
        (
            "2.0.1",
            [
                "ClearCache",
                "ChangeAvailability",
                "Reset",
                "RequestStartTransaction",
                "RequestStopTransaction",
                "UnlockConnector",
                "TriggerMessage",
                "GetVariables",
                "SetVariables",
                "SetChargingProfile",
                "ClearChargingProfile",
                "DataTransfer",
                "ReserveNow",
                "CancelReservation",
                "SendLocalList",
                "GetLocalListVersion",
                "GetTransactionStatus",
                "GetBaseReport",
            ],
        ),
    ):
        for action in actions:
            payload = {}
            if action == "GetVariables":
                payload = {
                    "getVariableData": [
                        {"component": {"name": "X"}, "variable": {"name": "Y"}}
                    ]
                }
            if action == "SetVariables":
                payload = {
                    "setVariableData": [
                        {
                            "component": {"name": "X"},
                            "variable": {"name": "Y"},
                            "attributeValue": "1",
                        }
                    ]
                }
            s = schema(version, action, True)
            try:
                jsonschema.Draft7Validator(s).validate(
                    answer_payload(version, action, payload)
                )
                checked += 1
            except jsonschema.ValidationError as e:
                failures += 1
                print(f"INVALID answer {version} {action}: {e.message}")
    print(
        json.dumps(
            {
                "selfcheck": "ok" if not failures else "FAILED",
                "checked": checked,
                "failures": failures,
            }
        )
    )
    return 1 if failures else 0


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--scenario",
        choices=["steady", "idle", "storm", "commands", "sweep"],
        default="steady",
    )
    p.add_argument(
        "--url",
        action="append",
        default=None,
        help="OCPP base URL (the station id is appended); repeat to spread "
        "stations over several server processes (--processes mode)",
    )
    p.add_argument("--stations", "-n", type=int, default=100)
    p.add_argument("--offset", type=int, default=1, help="first station number")
    p.add_argument("--prefix", default="BENCH", help="station id prefix")
    p.add_argument("--digits", type=int, default=5)
    p.add_argument(
        "--password",
        default="bench-station-password-0123456789",
        help="HTTP Basic password of every station (security profile 1)",
    )
    p.add_argument(
        "--v201-share",
        type=float,
        default=0.5,
        help="fraction of stations speaking OCPP 2.0.1 (others 1.6)",
    )
    p.add_argument("--ramp", type=float, default=500.0, help="connections per second")
    p.add_argument(
        "--rate",
        "-r",
        type=float,
        default=200.0,
        help="target aggregate CALLs per second (0: none)",
    )
    p.add_argument(
        "--duration",
        "-t",
        type=float,
        default=20.0,
        help="measured traffic window, seconds",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=5.0,
        help="traffic before the measured window, seconds",
    )
    p.add_argument(
        "--warm",
        type=int,
        default=20,
        help="stations connected before the RSS baseline (not for storm)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="seconds between connect phase and the 'connected' sample",
    )
    p.add_argument(
        "--samples",
        type=int,
        default=4,
        choices=range(1, len(SAMPLES) + 1),
        help="sampled values per periodic meter reading",
    )
    p.add_argument(
        "--session-meter-values",
        type=int,
        default=20,
        help="MeterValues / TransactionEvent Updated per session",
    )
    p.add_argument(
        "--session-jitter",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="session lengths uniform in 1..2N-1 meter values (mean N) "
        "instead of exactly N",
    )
    p.add_argument(
        "--start-prob",
        type=float,
        default=0.5,
        help="chance that an idle station starts a session at its turn "
        "(else it sends a Heartbeat)",
    )
    p.add_argument(
        "--boot-status",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after an Accepted boot, send StatusNotification for each "
        "connector (1.6: connectors 0 and 1; 2.0.1: EVSE 1/1) as real "
        "stations do",
    )
    p.add_argument("--tag-prefix", default="BTAG")
    p.add_argument("--tags", type=int, default=1000, help="distinct id tags in use")
    p.add_argument("--call-timeout", type=float, default=30.0)
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=30.0,
        help="per attempt: TCP + WebSocket handshake",
    )
    p.add_argument("--connect-phase-timeout", type=float, default=120.0)
    p.add_argument("--winddown-timeout", type=float, default=60.0)
    p.add_argument(
        "--retry",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="retry failed connects with backoff (default: storm only)",
    )
    p.add_argument(
        "--reconnect",
        action="store_true",
        help="reconnect stations the server disconnects",
    )
    p.add_argument(
        "--source-ips",
        type=int,
        default=0,
        help="spread connections over 127.0.0.1..N (0: auto, 1 per 4000)",
    )
    p.add_argument("--tick", type=float, default=0.002, help="scheduler tick, s")
    p.add_argument(
        "--watch",
        action="append",
        default=[],
        help="NAME=pid:P[,P] or NAME=comm:NAME: sample CPU/RSS of these "
        "processes at phase boundaries (cpu per message, RSS/station)",
    )
    # sweep
    p.add_argument(
        "--rates",
        default="25,50,100,200,400,800,1200,1500,2000",
        help="sweep: the rates to step through (each --duration s)",
    )
    p.add_argument(
        "--sweep-p99",
        type=float,
        default=100.0,
        help="sweep: the p99 limit (ms) a rate must meet",
    )
    p.add_argument(
        "--sweep-stop-p99",
        type=float,
        default=2000.0,
        help="sweep: stop stepping up once p99 exceeds this (ms)",
    )
    # commands
    p.add_argument(
        "--api-url",
        action="append",
        default=None,
        help="REST API base (default: derived from --url)",
    )
    p.add_argument("--api-key", default=os.environ.get("BENCH_API_KEY", ""))
    p.add_argument("--jwt", default=os.environ.get("BENCH_JWT", ""))
    p.add_argument("--command-rate", type=float, default=50.0)
    p.add_argument("--command-action", default="ClearCache")
    p.add_argument("--command-timeout", type=float, default=30.0)
    p.add_argument("--no-uvloop", dest="uvloop", action="store_false")
    p.add_argument("--out", help="also write the summary JSON here")
    p.add_argument(
        "--selfcheck",
        metavar="SCHEMA_DIR",
        help="validate every frame against the OCPP JSON schemas and exit",
    )
    args = p.parse_args(argv)
    if not args.url:
        args.url = ["ws://127.0.0.1:8000/ocpp"]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.selfcheck:
        return selfcheck(args.selfcheck, args.samples)
    fds = raise_fd_limit(args.stations + 256)
    if fds < args.stations + 64:
        print(
            f"[loadgen] warning: only {fds} file descriptors for {args.stations} "
            "stations",
            file=sys.stderr,
        )
    gc.set_threshold(50_000, 50, 100)
    if args.uvloop:
        try:
            import uvloop

            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        except ImportError:
            print(
                "[loadgen] uvloop not installed; using asyncio's loop", file=sys.stderr
            )
    summary = asyncio.run(amain(args))
    text = json.dumps(summary, indent=2, sort_keys=False, default=str)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
