#!/usr/bin/env python3
"""A minimal OCPP-J "CSMS" that answers every CALL at once, storing nothing.

Calibration only: it shows how fast bench/loadgen.py can go on this machine
(and what bare ``websockets`` costs per message), so a generator limit is never
mistaken for a server limit:

    taskset -c 0 .venv/bin/python bench/echo_csms.py --port 8199 &
    taskset -c 1 .venv/bin/python bench/loadgen.py --url ws://127.0.0.1:8199/ocpp \
        -n 2000 -r 5000 -t 20

Answers are schema-valid for the actions the generator sends; no validation of
requests, no authentication.

It also answers the ``commands`` scenario's API call (``POST
/api/v1/charge-points/<id>/commands/`` on ``--api-port``, default port + 1):
the CALL goes to the station and its answer back, nothing stored. That shows
the generator's own share of a command's round trip:

    taskset -c 1 .venv/bin/python bench/loadgen.py --scenario commands \
        --url ws://127.0.0.1:8199/ocpp --api-url http://127.0.0.1:8200 \
        -n 2000 -r 1000 -t 20
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
import uuid
from http import HTTPStatus

from websockets.asyncio.server import serve

_tx = itertools.count(1)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def answer(action: str) -> dict:
    if action == "BootNotification":
        return {"status": "Accepted", "currentTime": _now(), "interval": 300}
    if action == "Heartbeat":
        return {"currentTime": _now()}
    if action == "StartTransaction":
        return {"transactionId": next(_tx), "idTagInfo": {"status": "Accepted"}}
    if action == "StopTransaction":
        return {"idTagInfo": {"status": "Accepted"}}
    if action == "Authorize":
        return {"idTagInfo": {"status": "Accepted"}}
    return {}


_stations: dict = {}  # station id -> its connection
_calls: dict[str, asyncio.Future] = {}  # our CALLs waiting for the answer


async def handler(ws) -> None:
    station_id = ws.request.path.rstrip("/").rpartition("/")[2]
    _stations[station_id] = ws
    try:
        async for text in ws:
            try:
                msg = json.loads(text)
            except ValueError:
                continue
            if msg[0] == 2:
                await ws.send(
                    json.dumps([3, msg[1], answer(msg[2])], separators=(",", ":"))
                )
            elif msg[0] in (3, 4) and msg[1] in _calls:
                future = _calls.pop(msg[1])
                if not future.done():
                    future.set_result(msg)
    finally:
        if _stations.get(station_id) is ws:
            del _stations[station_id]


async def command(path: str, body: bytes) -> tuple[int, dict]:
    """POST .../charge-points/<id>/commands/: the station's answer."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[-1] != "commands":
        return 404, {"detail": "not found"}
    ws = _stations.get(parts[-2])
    if ws is None:
        return 409, {"detail": "station offline"}
    request = json.loads(body or b"{}")
    uid = str(uuid.uuid4())
    _calls[uid] = future = asyncio.get_running_loop().create_future()
    try:
        call = [2, uid, request["action"], request.get("payload", {})]
        await ws.send(json.dumps(call))
        msg = await asyncio.wait_for(future, 30)
    except (TimeoutError, ConnectionError):
        return 504, {"detail": "no answer"}
    finally:
        _calls.pop(uid, None)
    if msg[0] == 4:
        return 502, {"detail": msg[2]}
    return 200, {"status": msg[2].get("status"), "response": msg[2]}


async def api(reader, writer) -> None:
    """HTTP/1.1 with keep-alive, as much as the generator speaks."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            status, answer_body = await command(path, await reader.readexactly(length))
            data = json.dumps(answer_body).encode()
            writer.write(
                f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n".encode()
                + data
            )
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def health(connection, request):
    """GET /health/ answers 200, as the CSMS's does: the runner waits for it."""
    if request.path == "/health/":
        return connection.respond(HTTPStatus.OK, "ok\n")
    return None


def select_subprotocol(connection, offered):
    for p in ("ocpp2.0.1", "ocpp1.6"):
        if p in offered:
            return p
    return None


async def main(port: int, api_port: int) -> None:
    await asyncio.start_server(api, "127.0.0.1", api_port, backlog=1024)
    async with serve(
        handler,
        "127.0.0.1",
        port,
        select_subprotocol=select_subprotocol,
        process_request=health,
        compression=None,
        ping_interval=None,
        backlog=4096,
        max_size=2**22,
    ):
        await asyncio.Future()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=8199)
    p.add_argument("--api-port", type=int, help="default: --port + 1")
    a = p.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(a.port, a.api_port or a.port + 1))
