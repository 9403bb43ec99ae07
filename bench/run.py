#!/usr/bin/env python3
"""Run the fleet benchmark against the CSMS in its production configuration.

One command (see bench/README.md):

    .venv/bin/python bench/run.py                       # every scenario, default sizes
    .venv/bin/python bench/run.py --scenarios smoke     # 100 stations, 200 msg/s, 20 s
    .venv/bin/python bench/run.py --scenarios steady --stations 2000 --rate 1500 \
        --duration 60 --profile

What it does:

1. validates every frame the generator can send against the OCPP JSON schemas;
2. creates a fresh PostgreSQL database (``--db``, dropped first), migrates it,
   seeds the stations / id tags / an API key (bench/seed.py), flushes the
   bench's Redis database (``--redis-db``);
3. per scenario: starts the server(s) (``manage.py serve --server uvicorn``:
   uvloop, httptools, backlog 4096) pinned with ``taskset -c 0``, waits for
   ``/health/``, runs bench/loadgen.py pinned to core 1 with ``--watch`` on the
   server pid(s), PostgreSQL and Redis (CPU per message, RSS per station),
   counts the database before and after and checks that it holds exactly what
   the generator sent and the server acknowledged; optionally profiles the
   server with py-spy during the measured window; stops the server(s);
4. writes bench/results/<scenario>.json and prints a table.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent  # the CSMS checkout the server runs from (--project)
PY = (
    str(ROOT / ".venv" / "bin" / "python")
    if (ROOT / ".venv").exists()
    else sys.executable
)
SCHEMAS = Path(os.environ.get("OCPP_SCHEMAS", "/work/shared/ref/ocpp/schemas"))


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


def sh(cmd: list[str], env=None, check=True, capture=True) -> str:
    r = subprocess.run(cmd, env=env, cwd=ROOT, text=True, capture_output=capture)
    if check and r.returncode != 0:
        raise SystemExit(
            f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}\n{r.stderr}"
        )
    return r.stdout if capture else ""


# --------------------------------------------------------------------------- #
# Environment
# --------------------------------------------------------------------------- #


class Env:
    def __init__(self, args):
        self.args = args
        self.db_url = f"postgres://postgres@{args.pg_host}:{args.pg_port}/{args.db}"
        self.redis_url = f"redis://{args.redis_host}:{args.redis_port}/{args.redis_db}"
        self.base = dict(os.environ)
        self.base.update(
            DATABASE_URL=self.db_url,
            REDIS_URL=self.redis_url,
            CSMS_SECRET_KEY="bench-only-secret-key-0123456789abcdef",
            # The commands scenario sends 50/s; the API's default is 600/min.
            CSMS_API_RATE_LIMIT="10000000/min",
            PYTHONUNBUFFERED="1",
            DJANGO_SETTINGS_MODULE="csms.settings",
            CSMS_PROJECT=str(ROOT),
        )
        for item in args.server_env:
            k, _, v = item.partition("=")
            self.base[k] = v
        self.api_key = ""

    def psql(self, sql: str, db: str = "postgres") -> str:
        return sh(
            [
                "psql",
                "-h",
                self.args.pg_host,
                "-p",
                str(self.args.pg_port),
                "-U",
                "postgres",
                "-d",
                db,
                "-tAc",
                sql,
            ]
        ).strip()

    def fresh_database(self) -> None:
        a = self.args
        log(f"fresh database {a.db}")
        self.psql(f"DROP DATABASE IF EXISTS {a.db} WITH (FORCE)")
        self.psql(f"CREATE DATABASE {a.db}")
        t0 = time.time()
        sh([PY, "manage.py", "migrate", "-v0"], env=self.base)
        log(f"migrated in {time.time() - t0:.1f}s")

    def seed(self, stations: int) -> dict:
        out = sh(
            [
                PY,
                str(BENCH / "seed.py"),
                "seed",
                "--stations",
                str(stations),
                "--password",
                self.args.password,
            ],
            env=self.base,
        )
        result = json.loads(out.strip().splitlines()[-1])
        self.api_key = result["api_key"]
        log(
            f"seeded {result['stations_total']} stations "
            f"({result['stations_created']} new, {result['id_tags_created']} id tags) "
            f"in {result['seconds']}s"
        )
        return result

    def counts(self) -> dict:
        # Retried: PostgreSQL may be out of connections for a while (other users,
        # or the server under test holding many).
        for _attempt in range(10):
            r = subprocess.run(
                [PY, str(BENCH / "seed.py"), "counts"],
                env=self.base,
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            if r.returncode == 0:
                return json.loads(r.stdout.strip().splitlines()[-1])
            time.sleep(3)
        raise RuntimeError(f"counting rows failed: {r.stderr[-500:]}")

    def pg_stats(self) -> dict:
        """Database-wide and per-table activity counters (for per-message deltas)."""
        db = self.psql(
            "SELECT xact_commit, xact_rollback, tup_fetched, tup_inserted, "
            "tup_updated, tup_deleted FROM pg_stat_database "
            f"WHERE datname = '{self.args.db}'",
            self.args.db,
        )
        keys = (
            "commits",
            "rollbacks",
            "tup_fetched",
            "tup_inserted",
            "tup_updated",
            "tup_deleted",
        )
        out = {
            "database": dict(zip(keys, (int(x) for x in db.split("|")), strict=False))
        }
        tables = {}
        rows = self.psql(
            "SELECT relname, coalesce(seq_scan,0), coalesce(idx_scan,0), "
            "n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del "
            "FROM pg_stat_user_tables",
            self.args.db,
        )
        for line in rows.splitlines():
            name, *vals = line.split("|")
            tables[name] = dict(
                zip(
                    ("seq_scan", "idx_scan", "ins", "upd", "hot_upd", "del"),
                    (int(v) for v in vals),
                    strict=False,
                )
            )
        out["tables"] = tables
        return out

    def reset_online_state(self) -> None:
        """Forget the previous scenario's sessions (a clean start, not a restart).

        Without this, stations that a stopped server never marked offline look
        connected to a channel that no longer exists, and every reconnect first
        sends "ocpp.replaced" to that dead channel (see README, restart storm).
        """
        self.psql(
            "UPDATE chargepoints_chargepoint SET is_online = false, "
            "channel_name = '', node_name = '' WHERE id LIKE 'BENCH%'",
            self.args.db,
        )

    def flush_redis(self) -> None:
        if shutil.which("redis-cli"):
            sh(
                [
                    "redis-cli",
                    "-h",
                    self.args.redis_host,
                    "-p",
                    str(self.args.redis_port),
                    "-n",
                    str(self.args.redis_db),
                    "FLUSHDB",
                ],
                check=False,
            )

    @contextlib.contextmanager
    def pg_settings(self):
        """``--pg-setting`` for the run (ALTER SYSTEM, reload), reset after it.

        The machine's PostgreSQL is shared (CI runs on it): nothing stays.
        """
        names = []
        try:
            for item in self.args.pg_setting:
                name, _, value = item.partition("=")
                if not re.fullmatch(r"[a-z_]+", name):
                    raise SystemExit(f"--pg-setting {item}: not a setting name")
                names.append(name)
                self.psql(f"ALTER SYSTEM SET {name} = '{value.replace(chr(39), '')}'")
            if names:
                self.psql("SELECT pg_reload_conf()")
                log("PostgreSQL for this run: " + ", ".join(self.args.pg_setting))
            yield
        finally:
            for name in names:
                self.psql(f"ALTER SYSTEM RESET {name}")
            if names:
                self.psql("SELECT pg_reload_conf()")

    def settings_report(self) -> dict:
        report = {}
        for name in (
            "synchronous_commit",
            "fsync",
            "shared_buffers",
            "max_connections",
            "max_wal_size",
            "checkpoint_timeout",
        ):
            with contextlib.suppress(SystemExit):
                report[f"pg_{name}"] = self.psql(f"SHOW {name}", self.args.db)
        report["cpus"] = os.cpu_count()
        report["somaxconn"] = Path("/proc/sys/net/core/somaxconn").read_text().strip()
        return report


# --------------------------------------------------------------------------- #
# Servers
# --------------------------------------------------------------------------- #


# echo_csms.py's command endpoint is on its port + this (port + 1 is the
# next process's WebSocket port).
ECHO_API_OFFSET = 1000


class Server:
    def __init__(
        self,
        env: Env,
        port: int,
        log_path: Path,
        core: str,
        memprofile: Path | None,
        kind: str = "csms",
    ):
        self.env = env
        self.port = port
        self.log_path = log_path
        self.core = core
        self.memprofile = memprofile  # under tracemalloc, its report here
        self.kind = kind  # "csms", or "echo": bench/echo_csms.py (the bare stack)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        a = self.env.args
        env = dict(self.env.base, CSMS_NODE_NAME=f"bench-{self.port}")
        if self.kind == "echo":
            cmd = [
                PY,
                str(BENCH / "echo_csms.py"),
                "--port",
                str(self.port),
                "--api-port",
                str(self.port + ECHO_API_OFFSET),
            ]
        elif self.memprofile is not None:
            env["BENCH_MEMPROFILE_OUT"] = str(self.memprofile)
            cmd = [PY, str(BENCH / "memserve.py"), "127.0.0.1", str(self.port)]
        elif a.server == "serve":
            cmd = [
                PY,
                "manage.py",
                "serve",
                "--server",
                "uvicorn",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
        else:  # plain uvicorn: the options of `serve` its CLI takes (not --ws class)
            cmd = [
                PY,
                "-m",
                "uvicorn",
                "csms.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--ws",
                "websockets-sansio",
                "--backlog",
                "4096",
                "--no-access-log",
                "--lifespan",
                "on",
            ]
        if shutil.which("taskset") and self.core:
            cmd = ["taskset", "-c", self.core, *cmd]
        self.logf = open(self.log_path, "w")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=self.logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        url = f"http://127.0.0.1:{self.port}/health/"
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server on {self.port} exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            time.sleep(0.3)
        raise SystemExit(f"server on {self.port} not healthy in {timeout}s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(45)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.logf.close()


# --------------------------------------------------------------------------- #
# Profiling
# --------------------------------------------------------------------------- #


def pyspy_available() -> str | None:
    p = ROOT / ".venv" / "bin" / "py-spy"
    return str(p) if p.exists() else shutil.which("py-spy")


def profile_server(pid: int, seconds: int, results: Path, name: str) -> None:
    """py-spy during the measured window, in three consecutive parts:

    - ``<name>.svg``: flame graph, ``--gil`` (where the process's Python CPU goes);
    - ``<name>-cpu.txt``: the same as collapsed stacks (``--gil --threads``);
    - ``<name>-wall.txt``: every thread, idle or not (``--idle --threads``): where
      each thread's *time* goes, waiting included: the view that shows a serial
      database thread as the bottleneck even when the CPU is not saturated.

    ``<name>-top.txt`` summarizes both (self and inclusive % per function).
    """
    spy = pyspy_available()
    if not spy:
        log("py-spy not installed: no profile (pip install py-spy)")
        return
    part = max(5, int(seconds) // 3)
    runs = (
        ("flamegraph", results / f"{name}.svg", ["--gil"]),
        ("raw", results / f"{name}-cpu.txt", ["--gil", "--threads"]),
        ("raw", results / f"{name}-wall.txt", ["--idle", "--threads"]),
    )
    for fmt, out, flags in runs:
        cmd = [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(part),
            "--rate",
            "100",
            *flags,
            "--format",
            fmt,
            "-o",
            str(out),
        ]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", "1", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            log(f"py-spy failed: {r.stderr.strip()[-300:]}")
    parts = []
    cpu, wall = results / f"{name}-cpu.txt", results / f"{name}-wall.txt"
    if cpu.exists():
        parts.append(
            "=== CPU (--gil: samples where a thread holds the GIL) ===\n"
            + summarize_collapsed(cpu.read_text())
        )
    if wall.exists():
        parts.append(
            "=== WALL (--idle: every thread, waiting included), per thread ===\n"
            + summarize_collapsed(wall.read_text(), per_thread=True, top=20)
        )
    if parts:
        (results / f"{name}-top.txt").write_text("\n".join(parts))
        log(f"profile: {name}.svg, {name}-cpu.txt, {name}-wall.txt, {name}-top.txt")


_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _short(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m.group("file")
    for marker in ("site-packages/", "/project/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{m.group('fn')} ({path})"


def _parse_collapsed(text: str):
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def summarize_collapsed(text: str, top: int = 25, per_thread: bool = False) -> str:
    """Self and inclusive % per function from py-spy's collapsed stacks.

    With ``--threads`` the first frame names the thread; ``per_thread`` gives
    each thread its own table (percentages of that thread's samples).
    """
    groups: dict[str, list] = collections.defaultdict(list)
    total = 0
    for frames, n in _parse_collapsed(text):
        total += n
        thread = frames[0] if frames[0].startswith(("thread", "process")) else "all"
        body = frames[1:] if thread != "all" else frames
        key = thread if per_thread else "all"
        groups[key].append((body, n))
    if not total:
        return "no samples\n"
    out = [f"samples: {total} at 100 Hz"]
    for key, stacks in sorted(groups.items(), key=lambda kv: -sum(n for _, n in kv[1])):
        selfc: collections.Counter = collections.Counter()
        incl: collections.Counter = collections.Counter()
        sub = sum(n for _, n in stacks)
        for body, n in stacks:
            fns = [_short(f) for f in body]
            if fns:
                selfc[fns[-1]] += n
            for fn in set(fns):
                incl[fn] += n
        # Frames on (nearly) every stack (thread roots, the server's main) say nothing.
        incl = collections.Counter({f: n for f, n in incl.items() if n < 0.97 * sub})
        out += [
            "",
            f"--- {key}: {sub} samples ({100 * sub / total:.1f}% of all) ---",
            f"top {top} by self time (leaf frame):",
        ]
        out += [f"  {100 * n / sub:5.1f}%  {fn}" for fn, n in selfc.most_common(top)]
        out += [f"top {top} by inclusive time (anywhere on the stack):"]
        out += [
            f"  {100 * n / sub:5.1f}%  {fn}" for fn, n in incl.most_common(top + 15)
        ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- #
# Scenarios
# --------------------------------------------------------------------------- #


def scenario_specs(a) -> dict[str, dict]:
    # --scaleout-per-process: each of k2's processes carries what k1's one does
    # (twice the stations, the rate and the commands in all).
    k2_share = 2 if a.scaleout_per_process else 1
    specs = {
        "smoke": dict(scenario="steady", stations=100, rate=200, duration=20, warmup=3),
        # Highest rate with p99 < 100 ms and no errors, on --stations stations.
        "sweep": dict(
            scenario="sweep",
            stations=a.sweep_stations or a.stations,
            rate=0,
            duration=a.sweep_step,
            warmup=2,
            extra=["--rates", a.sweep_rates],
        ),
        "steady": dict(
            scenario="steady",
            stations=a.stations,
            rate=a.rate,
            duration=a.duration,
            warmup=a.warmup,
        ),
        # Idle: connections only (boot, no status notifications), for memory.
        "idle": dict(
            scenario="idle",
            stations=a.idle_stations,
            rate=0,
            duration=a.idle_hold,
            warmup=0,
            ramp=a.idle_ramp,
            extra=["--no-boot-status"],
        ),
        "held": dict(
            scenario="steady",
            stations=a.idle_stations,
            rate=a.rate,
            duration=a.duration,
            # Each station's first turns start sessions (half of the idle
            # stations per turn): 10,000 stations at 1,500 msg/s take a turn
            # every 6.7 s, so a 5 s warm-up ended inside that burst of starts
            # and the window measured it. Three turns first: steady state.
            warmup=max(a.warmup, 3 * a.idle_stations / a.rate) if a.rate else a.warmup,
            ramp=a.idle_ramp,
        ),
        "storm": dict(
            scenario="storm",
            stations=a.storm_stations,
            rate=0,
            duration=a.storm_hold,
            warmup=0,
        ),
        "commands": dict(
            scenario="commands",
            stations=a.stations,
            rate=a.commands_steady_rate,
            duration=a.duration,
            warmup=a.warmup,
            command_rate=a.command_rate,
        ),
        "scaleout-k1": dict(
            scenario="commands" if a.scaleout_command_rate > 0 else "steady",
            stations=a.scaleout_stations or a.stations,
            rate=a.scaleout_rate,
            duration=a.duration,
            warmup=a.warmup,
            command_rate=a.scaleout_command_rate,
            processes=1,
        ),
        "scaleout-k2": dict(
            scenario="commands" if a.scaleout_command_rate > 0 else "steady",
            stations=(a.scaleout_stations or a.stations) * k2_share,
            rate=a.scaleout_rate * k2_share,
            duration=a.duration,
            warmup=a.warmup,
            command_rate=a.scaleout_command_rate * k2_share,
            processes=2,
        ),
    }
    # The same loads on echo_csms.py, which answers and stores nothing: what
    # the bare WebSocket stack's CPU per message does when the load is split
    # (it falls with the load per process, whatever the server does).
    for k in (1, 2):
        base = specs[f"scaleout-k{k}"]
        specs[f"scaleout-echo-k{k}"] = dict(
            scenario="steady",
            server="echo",
            **{key: base[key] for key in ("stations", "rate", "duration", "warmup")},
            processes=k,
        )
    return specs


def integrity(summary: dict, before: dict, after: dict) -> dict:
    """The database must hold exactly what the server acknowledged."""
    acked = summary.get("data_acknowledged", {})
    sent = summary.get("data_sent", {})
    counters = summary.get("whole_run", {}).get("counters", {})
    # Timed-out calls whose answer never came, and calls lost with a connection:
    # whether the server stored them is unknown.
    unknown = (
        counters.get("timeouts", 0)
        - counters.get("late_answers", 0)
        + counters.get("lost_in_flight", 0)
    )

    def delta(key):
        if before.get(key) is None or after.get(key) is None:
            return None
        return after[key] - before[key]

    checks = {}
    for label, db_key, gen_key in (
        ("transactions", "transactions", "tx_started"),
        ("transactions_completed", "transactions_completed", "tx_stopped"),
        ("transaction_events_2.0.1", "transaction_events", "tx_events"),
        ("meter_values", "meter_values", "sampled_values"),
        ("energy_wh", "energy_wh", "energy_wh"),
    ):
        d = delta(db_key)
        want = acked.get(gen_key, 0)
        entry = {"db": d, "acknowledged": want, "sent": sent.get(gen_key)}
        if d is None:
            entry["result"] = "n/a (table missing)"
        elif abs(d - want) < 1e-6:
            entry["result"] = "exact"
        elif unknown and want <= d <= (sent.get(gen_key) or want):
            entry["result"] = "within in-flight uncertainty"
        else:
            entry["result"] = "MISMATCH"
        checks[label] = entry
    verdicts = [c["result"] for c in checks.values()]
    passed = all(v != "MISMATCH" for v in verdicts) and any(
        v == "exact" for v in verdicts
    )
    if all(v.startswith("n/a") for v in verdicts) or not any(acked.values()):
        passed = None  # nothing to compare (e.g. the server refused every session)
    return {
        "passed": passed,
        "sessions_left_open": counters.get("sessions_left_open"),
        "unanswered_calls": unknown,
        "checks": checks,
        "db_before": before,
        "db_after": after,
    }


def db_work(summary: dict, a: dict, b: dict) -> dict:
    """What the database did per station CALL answered (whole run: boot included)."""
    wr = summary.get("whole_run", {})
    calls = sum(wr.get("call_results", {}).values()) + sum(
        wr.get("call_errors", {}).values()
    )
    if not calls:
        return {}
    db = {k: b["database"][k] - a["database"].get(k, 0) for k in b["database"]}
    per_call = {k: round(v / calls, 3) for k, v in db.items()}
    tables = {}
    for name, t in b["tables"].items():
        t0 = a["tables"].get(name, {})
        d = {k: v - t0.get(k, 0) for k, v in t.items()}
        ops = d["seq_scan"] + d["idx_scan"] + d["ins"] + d["upd"] + d["del"]
        if ops:
            tables[name] = {k: round(v / calls, 3) for k, v in d.items() if v}
    tables = dict(sorted(tables.items(), key=lambda kv: -sum(kv[1].values())))
    return {
        "calls_answered": calls,
        "calls_per_commit": round(calls / db["commits"], 2)
        if db.get("commits")
        else None,
        "per_call": per_call,
        "per_call_by_table": tables,
        "note": "scans = index/sequential scans started (roughly: SELECTs and the "
        "lookups of UPDATE/DELETE); ins/upd/del = rows. The server's own "
        "connection-level queries (e.g. health checks) are included.",
    }


def server_cores(spec: str, k: int) -> list[str]:
    """Each process's ``taskset`` cores: ``0`` or ``0-1`` for all of them,
    ``0/1`` for process i on the i-th entry (round robin)."""
    entries = spec.split("/")
    return [entries[i % len(entries)] for i in range(k)]


def run_scenario(env: Env, name: str, spec: dict, results: Path, a) -> dict:
    k = spec.get("processes", 1)
    ports = [a.port + i for i in range(k)]
    memprofile = (
        results / f"memprofile-{name}.txt" if name in a.memprofile_scenarios else None
    )
    kind = spec.get("server", "csms")
    stores = kind == "csms"  # echo_csms stores nothing: no counts to compare
    servers = [
        Server(env, p, results / f"server-{name}-{p}.log", core, memprofile, kind)
        for p, core in zip(ports, server_cores(a.server_core, k), strict=True)
    ]
    env.flush_redis()
    if not a.keep_online_state and stores:
        env.reset_online_state()
    log(
        f"=== {name}: {spec['stations']} stations, {spec['rate']} msg/s, "
        f"{spec['duration']} s, {k} server process(es)"
    )
    for s in servers:
        s.start()
    try:
        for s in servers:
            s.wait_healthy()
        before, pg_before = None, None
        if stores:
            before = env.counts()
            with contextlib.suppress(SystemExit):  # statistics are optional
                pg_before = env.pg_stats()
        cmd = [
            PY,
            str(BENCH / "loadgen.py"),
            "--scenario",
            spec["scenario"],
            "--stations",
            str(spec["stations"]),
            "--rate",
            str(spec["rate"]),
            "--duration",
            str(spec["duration"]),
            "--warmup",
            str(spec["warmup"]),
            "--password",
            a.password,
            "--v201-share",
            str(a.v201_share),
            "--ramp",
            str(spec.get("ramp", a.ramp)),
            "--watch",
            "server=pid:" + ",".join(str(s.pid) for s in servers),
            # Only this database's backends: other databases on the same
            # server (test suites) must not count.
            "--watch",
            f"postgres=cmdline:postgres {a.db} ",
            "--watch",
            "redis=comm:redis-server",
            "--out",
            str(results / f"{name}.loadgen.json"),
        ]
        for p in ports:
            cmd += ["--url", f"ws://127.0.0.1:{p}/ocpp"]
        if "command_rate" in spec:
            cmd += [
                "--command-rate",
                str(spec["command_rate"]),
                "--api-key",
                env.api_key,
            ]
        cmd += spec.get("extra", []) + a.loadgen_arg
        if shutil.which("taskset") and a.client_core:
            cmd = ["taskset", "-c", a.client_core, *cmd]
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        profile_thread = None
        stderr_lines = []

        def pump():
            nonlocal profile_thread
            for line in proc.stderr:
                stderr_lines.append(line)
                sys.stderr.write(line)
                marks = ("PHASE baseline", "PHASE connected")
                if memprofile and any(mark in line for mark in marks):
                    os.kill(servers[0].pid, signal.SIGUSR1)  # heap snapshot
                if (
                    "PHASE window_start" in line
                    and a.profile
                    and name in a.profile_scenarios
                    and profile_thread is None
                ):
                    profile_thread = threading.Thread(
                        target=profile_server,
                        args=(
                            servers[0].pid,
                            min(a.profile_duration, spec["duration"]),
                            results,
                            f"profile-{name}",
                        ),
                    )
                    profile_thread.start()

        t = threading.Thread(target=pump)
        t.start()
        stdout = proc.stdout.read()
        proc.wait()
        t.join()
        if profile_thread:
            profile_thread.join()
        if proc.returncode != 0:
            raise SystemExit(
                f"loadgen failed ({proc.returncode}):\n{''.join(stderr_lines)}"
            )
        summary = json.loads(stdout)
        after = env.counts() if stores else None
    finally:
        for s in servers:
            s.stop()
    if not stores:
        summary["database_work"] = {}
        summary["integrity"] = {"passed": None, "note": "echo_csms stores nothing"}
    else:
        time.sleep(1.5)  # PostgreSQL publishes table statistics about once a second
        try:
            summary["database_work"] = (
                db_work(summary, pg_before, env.pg_stats()) if pg_before else {}
            )
        except SystemExit as exc:
            summary["database_work"] = {"error": str(exc)[:300]}
        summary["integrity"] = integrity(summary, before, after)
    summary["bench"] = {
        "name": name,
        "processes": k,
        "server": a.server,
        "server_core": a.server_core,
        "client_core": a.client_core,
    }
    (results / f"{name}.json").write_text(json.dumps(summary, indent=2) + "\n")
    (results / f"{name}.loadgen.json").unlink(missing_ok=True)
    return summary


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #


def row(name: str, s: dict) -> dict:
    if s.get("scenario") == "sweep":
        steps = s.get("steps") or [{}]
        best = s.get("max_rate_within_p99_limit")
        top = max(steps, key=lambda x: x.get("achieved_rate", 0))
        s = dict(
            s,
            traffic=dict(top, target_rate=f"sweep max ok={best}", disconnects=0),
            server={
                "server": {
                    "cpu_ms_per_msg": top.get("server_cpu_ms_per_msg"),
                    "window_cpu_pct_of_one_core": top.get("server_cpu_pct"),
                },
                "postgres": {"cpu_ms_per_msg": top.get("postgres_cpu_ms_per_msg")},
            },
        )
    tr = s.get("traffic", {})
    lat = tr.get("latency_ms", {})
    con = s.get("connect", {})
    srv = s.get("server", {}).get("server", {})
    pg = s.get("server", {}).get("postgres", {})
    cmd = s.get("commands", {})
    integ = s.get("integrity", {})
    return {
        "scenario": name,
        "stations": s["config"]["stations"],
        "procs": s.get("bench", {}).get("processes", 1),
        "target/s": tr.get("target_rate") or "-",
        "achieved/s": tr.get("achieved_rate", "-"),
        "p50": lat.get("p50", "-"),
        "p95": lat.get("p95", "-"),
        "p99": lat.get("p99", "-"),
        "max": lat.get("max", "-"),
        "errors": tr.get("errors", 0),
        "timeouts": tr.get("timeouts", 0),
        "disc": tr.get("disconnects", 0),
        "busy_skips": tr.get("skipped_busy", 0),
        "all_accepted_s": con.get("time_to_all_accepted_s"),
        "refused": sum(con.get("refused_http", {}).values()),
        "conn_fail": sum(con.get("connect_failures", {}).values()),
        "srv_cpu_ms/msg": srv.get("cpu_ms_per_msg", "-"),
        "pg_cpu_ms/msg": pg.get("cpu_ms_per_msg", "-"),
        "srv_cpu_%": srv.get("window_cpu_pct_of_one_core", "-"),
        "KiB/station": srv.get("rss_kib_per_station", "-"),
        "cmd_p50": cmd.get("latency_ms", {}).get(
            "p50", "skip" if cmd.get("skipped") else "-"
        ),
        "cmd_p99": cmd.get("latency_ms", {}).get("p99", "-"),
        "integrity": {True: "pass", False: "FAIL", None: "n/a"}.get(
            integ.get("passed")
        ),
    }


def table(rows: list[dict]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    line = "| " + " | ".join(c.ljust(widths[c]) for c in cols) + " |"
    sep = "|" + "|".join("-" * (widths[c] + 2) for c in cols) + "|"
    body = [
        "| " + " | ".join(str(r[c]).ljust(widths[c]) for c in cols) + " |" for r in rows
    ]
    return "\n".join([line, sep, *body])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--scenarios",
        default="smoke,steady,idle,held,storm,commands,scaleout",
        help="comma list of: smoke, steady, idle, held, storm, commands, "
        "scaleout (= scaleout-k1 + scaleout-k2 + scaleout-echo-k1 + "
        "scaleout-echo-k2: the same loads on echo_csms.py), scaleout-echo",
    )
    p.add_argument("--stations", "-n", type=int, default=2000, help="steady/commands")
    p.add_argument("--rate", "-r", type=float, default=1500, help="steady/held msg/s")
    p.add_argument(
        "--duration", "-t", type=float, default=60, help="measured window, s"
    )
    # Right after connecting, about half the fleet starts a session within a
    # few turns: heavier messages than the steady mix. 20 s lets that settle.
    p.add_argument("--warmup", type=float, default=20)
    p.add_argument("--ramp", type=float, default=500, help="connections/s (not storm)")
    p.add_argument("--idle-stations", type=int, default=10000, help="idle and held")
    p.add_argument("--sweep-rates", default="25,50,100,200,400,800,1200,1500,2000")
    p.add_argument(
        "--sweep-step", type=float, default=15, help="seconds per sweep step"
    )
    p.add_argument("--sweep-stations", type=int, default=0, help="default: --stations")
    p.add_argument("--idle-hold", type=float, default=20)
    p.add_argument(
        "--idle-ramp",
        type=float,
        default=100,
        help="connections/s for the 10,000-station idle and held scenarios",
    )
    p.add_argument(
        "--keep-online-state",
        action="store_true",
        help="do not mark bench stations offline between scenarios "
        "(simulates a server restart: stale sessions in the DB)",
    )
    p.add_argument("--storm-stations", type=int, default=10000)
    p.add_argument("--storm-hold", type=float, default=5)
    p.add_argument("--command-rate", type=float, default=50)
    p.add_argument("--commands-steady-rate", type=float, default=1000)
    p.add_argument("--scaleout-rate", type=float, default=600)
    p.add_argument(
        "--scaleout-per-process",
        action="store_true",
        help="scaleout-k2 with twice the stations, rate and commands: the same "
        "load per process as scaleout-k1 (without: the same load in all)",
    )
    p.add_argument(
        "--scaleout-command-rate",
        type=float,
        default=20,
        help="commands/s during scaleout (0: none; then the CPU per message "
        "compares station traffic only)",
    )
    p.add_argument(
        "--scaleout-stations", type=int, default=0, help="default: --stations"
    )
    p.add_argument("--v201-share", type=float, default=0.5)
    p.add_argument("--password", default="bench-station-password-0123456789")
    p.add_argument(
        "--server",
        choices=["serve", "uvicorn"],
        default="serve",
        help="manage.py serve, or uvicorn's CLI with the same options",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        help="extra KEY=VALUE for the server (e.g. CSMS_LOG_LEVEL=WARNING)",
    )
    p.add_argument(
        "--server-core",
        default="0",
        help="taskset cores of the server processes: 0, 0-1 (all of them), "
        "0/1 (process i on the i-th)",
    )
    p.add_argument("--client-core", default="1")
    p.add_argument("--port", type=int, default=8100)
    p.add_argument("--db", default="csms_bench")
    p.add_argument(
        "--keep-db", action="store_true", help="do not recreate the database"
    )
    p.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for the run (ALTER SYSTEM, reset after it), "
        "e.g. max_wal_size=8GB (repeat)",
    )
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--redis-host", default="127.0.0.1")
    p.add_argument("--redis-port", type=int, default=6379)
    p.add_argument(
        "--redis-db",
        type=int,
        default=14,
        help="a Redis database only the bench uses (it is flushed)",
    )
    p.add_argument("--profile", action="store_true", help="py-spy the server")
    p.add_argument("--profile-scenarios", default="steady")
    p.add_argument(
        "--memprofile-scenarios",
        default="",
        help="comma-separated scenarios whose server runs under tracemalloc "
        "(bench/memserve.py): results/memprofile-<scenario>.txt, per station",
    )
    p.add_argument(
        "--profile-duration",
        type=int,
        default=40,
        help="seconds: half SVG flame graph, half collapsed stacks",
    )
    p.add_argument("--results", default=str(BENCH / "results"))
    p.add_argument(
        "--loadgen-arg",
        action="append",
        default=[],
        help="extra argument passed to loadgen.py (repeat)",
    )
    p.add_argument(
        "--snapshot",
        action="store_true",
        help="copy the project tree first and run the copy, so that edits "
        "made while the benchmark runs do not change what it measures",
    )
    p.add_argument(
        "--project",
        default=str(BENCH.parent),
        help="the CSMS checkout to run (manage.py there); default: this one",
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="only rebuild summary.md/summary.json from results/*.json",
    )
    return p.parse_args(argv)


SCENARIO_GROUPS = {
    "scaleout": ["scaleout-k1", "scaleout-k2", "scaleout-echo-k1", "scaleout-echo-k2"],
    "scaleout-echo": ["scaleout-echo-k1", "scaleout-echo-k2"],
}


def main() -> int:
    a = parse_args()
    if a.report_only:
        return report_only(Path(a.results))
    global ROOT
    ROOT = Path(a.project).resolve()
    if a.snapshot:
        ROOT = snapshot(ROOT)
        log(f"running a snapshot of the tree: {ROOT}")
    a.profile_scenarios = a.profile_scenarios.split(",")
    a.memprofile_scenarios = [n for n in a.memprofile_scenarios.split(",") if n]
    names = []
    for n in a.scenarios.split(","):
        n = n.strip()
        names += SCENARIO_GROUPS.get(n, [n])
    specs = scenario_specs(a)
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {unknown}")
    results = Path(a.results).resolve()
    results.mkdir(parents=True, exist_ok=True)

    r = subprocess.run(
        [PY, str(BENCH / "loadgen.py"), "--selfcheck", str(SCHEMAS)],
        capture_output=True,
        text=True,
    )
    log(f"frame self-check: {r.stdout.strip()}")
    if r.returncode != 0:
        raise SystemExit(r.stdout + r.stderr)

    env = Env(a)
    with env.pg_settings():
        return run_all(env, a, names, specs, results)


def run_all(env: Env, a, names: list[str], specs: dict, results: Path) -> int:
    if not a.keep_db:
        env.fresh_database()
    env.seed(max(specs[n]["stations"] for n in names))
    environment = env.settings_report()
    src = Path(a.project)
    head = subprocess.run(
        ["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(src), "status", "--porcelain"], capture_output=True, text=True
    ).stdout.count("\n")
    environment.update(
        project=str(src),
        git_head=head,
        uncommitted_paths=dirty,
        snapshot=str(ROOT) if a.snapshot else None,
    )

    summaries = {}
    for n in names:
        try:
            summaries[n] = run_scenario(env, n, specs[n], results, a)
        except (
            Exception,
            SystemExit,
        ) as exc:  # one broken scenario must not end the run
            log(f"scenario {n} failed: {exc}")
            (results / f"{n}.error.txt").write_text(str(exc) + "\n")
        time.sleep(2)

    rows = [row(n, s) for n, s in summaries.items()]
    report = {
        "environment": environment,
        "table": rows,
        "scaleout": scaleout_comparison(summaries),
    }
    (results / "summary.json").write_text(json.dumps(report, indent=2) + "\n")
    text = table(rows)
    (results / "summary.md").write_text(text + "\n")
    print(text)
    if report["scaleout"]:
        print(json.dumps(report["scaleout"], indent=2))
    return 0


def report_only(results: Path) -> int:
    order = [
        "smoke",
        "sweep",
        "steady",
        "idle",
        "held",
        "storm",
        "commands",
        "scaleout-k1",
        "scaleout-k2",
        "scaleout-echo-k1",
        "scaleout-echo-k2",
    ]
    found = {}
    for path in sorted(results.glob("*.json")):
        if path.name.startswith("summary") or path.name.endswith(".loadgen.json"):
            continue
        data = json.loads(path.read_text())
        if "scenario" in data:
            found[path.stem] = data
    names = sorted(found, key=lambda n: (order.index(n) if n in order else 99, n))
    rows = [row(n, found[n]) for n in names]
    text = table(rows)
    (results / "summary.md").write_text(text + "\n")
    comparison = scaleout_comparison(found)
    (results / "summary.json").write_text(
        json.dumps({"table": rows, "scaleout": comparison}, indent=2) + "\n"
    )
    print(text)
    if comparison:
        print(json.dumps(comparison, indent=2))
    return 0


def snapshot(src: Path) -> Path:
    import tempfile

    dst = Path(tempfile.mkdtemp(prefix="csms-bench-")) / "project"
    shutil.copytree(
        src,
        dst,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "var", "results", "__pycache__", "*.pyc"
        ),
    )
    if (src / ".venv").exists():
        (dst / ".venv").symlink_to(src / ".venv")
    return dst


def scaleout_comparison(summaries: dict) -> dict | None:
    k1, k2 = summaries.get("scaleout-k1"), summaries.get("scaleout-k2")
    if not (k1 and k2):
        return None
    c1, c2 = _cpu_per_msg(k1), _cpu_per_msg(k2)
    ratio = round(c2 / c1, 3) if c1 and c2 else None
    comparison = {
        "msg_per_s_1_process": k1["config"].get("rate"),
        "msg_per_s_2_processes": k2["config"].get("rate"),
        "cpu_ms_per_msg_1_process": c1,
        "cpu_ms_per_msg_2_processes": c2,
        "ratio": ratio,
        "commands_p99_1": k1.get("commands", {}).get("latency_ms", {}).get("p99"),
        "commands_p99_2": k2.get("commands", {}).get("latency_ms", {}).get("p99"),
    }
    e1, e2 = summaries.get("scaleout-echo-k1"), summaries.get("scaleout-echo-k2")
    if e1 and e2:
        c1, c2 = _cpu_per_msg(e1), _cpu_per_msg(e2)
        echo_ratio = round(c2 / c1, 3) if c1 and c2 else None
        comparison.update(
            echo_cpu_ms_per_msg_1_process=c1,
            echo_cpu_ms_per_msg_2_processes=c2,
            echo_ratio=echo_ratio,
            # What splitting costs the CSMS beyond what it costs the bare stack.
            ratio_over_echo=round(ratio / echo_ratio, 3)
            if ratio and echo_ratio
            else None,
        )
    return comparison


def _cpu_per_msg(summary: dict) -> float | None:
    return summary["server"]["server"].get("cpu_ms_per_msg")


if __name__ == "__main__":
    sys.exit(main())
