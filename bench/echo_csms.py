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
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time

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


async def handler(ws) -> None:
    async for text in ws:
        try:
            msg = json.loads(text)
        except ValueError:
            continue
        if msg[0] == 2:
            await ws.send(
                json.dumps([3, msg[1], answer(msg[2])], separators=(",", ":"))
            )


def select_subprotocol(connection, offered):
    for p in ("ocpp2.0.1", "ocpp1.6"):
        if p in offered:
            return p
    return None


async def main(port: int) -> None:
    async with serve(
        handler,
        "127.0.0.1",
        port,
        select_subprotocol=select_subprotocol,
        compression=None,
        ping_interval=None,
        backlog=4096,
        max_size=2**22,
    ):
        await asyncio.Future()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=8199)
    a = p.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(a.port))
