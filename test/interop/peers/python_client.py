"""Python `websockets` (10.x, legacy asyncio API) client peer for the wsforge interop tests.

Usage: /usr/bin/python3 python_client.py URL SCENARIO [--compression deflate|none]

Prints one JSON object per line on stdout: a record per step ({"step": ...}), then
{"done": true}. On a failure it prints {"error": "..."} and exits 1. The test asserts on
the records and on what the wsforge server saw.
"""
import argparse
import asyncio
import hashlib
import json
import os
import sys

import websockets
from websockets.exceptions import ConnectionClosed

STEP_TIMEOUT = 10


def emit(record):
    print(json.dumps(record), flush=True)


def describe(message):
    if isinstance(message, bytes):
        return {"type": "binary", "length": len(message), "sha256": hashlib.sha256(message).hexdigest()}
    data = message.encode("utf-8")
    return {"type": "text", "length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), STEP_TIMEOUT)


async def echo_step(ws, name, message):
    await ws.send(message)
    echoed = await recv(ws)
    emit({"step": name, "sent": describe(message), "echoed": describe(echoed), "same": echoed == message})


def json_like_text(size, seed):
    parts = []
    length = 0
    i = seed
    while length < size:
        record = '{"id":%d,"user":"user-%d","event":"%s","ok":%s},' % (
            i, i % 97, ["click", "view", "scroll", "buy"][i % 4], "true" if i % 3 != 0 else "false")
        parts.append(record)
        length += len(record)
        i += 1
    return "".join(parts)[:size]


async def basic(url, compression):
    ws = await websockets.connect(url, compression=compression, max_size=2 ** 25, subprotocols=["chat"])
    emit({"step": "open", "subprotocol": ws.subprotocol, "extensions": [e.name for e in ws.extensions]})
    await echo_step(ws, "text", "hello from python ✓")
    await echo_step(ws, "binary", bytes(range(256)))
    await echo_step(ws, "empty-text", "")
    await echo_step(ws, "empty-binary", b"")
    await echo_step(ws, "large-binary", os.urandom(1024 * 1024))
    await echo_step(ws, "large-text", json_like_text(1024 * 1024, 3))

    # An iterable makes websockets send one fragmented message (RFC 6455 §5.4).
    await ws.send(["frag-1 ", "frag-2 ", "frag-3"])
    echoed = await recv(ws)
    emit({"step": "fragments-out", "echoed": echoed})

    # The server answers "stream-me" with a message it sends in fragments.
    await ws.send("stream-me")
    emit({"step": "fragments-in", "received": await recv(ws)})

    waiter = await ws.ping(b"py-ping \x00\xff")
    latency = await asyncio.wait_for(waiter, STEP_TIMEOUT)
    emit({"step": "ping", "pong": True, "latency": latency})

    # The server answers "ping-me" with a ping ("from-wsforge"); websockets answers it
    # automatically; the text that follows proves the connection is still fine.
    await ws.send("ping-me")
    await echo_step(ws, "after-ping", "still here")

    await asyncio.wait_for(ws.close(4000, "bye from python"), STEP_TIMEOUT)
    emit({"step": "close", "code": ws.close_code, "reason": ws.close_reason})

    # A second connection that the server closes.
    ws = await websockets.connect(url.rstrip("/") + "/server-close", compression=compression)
    await ws.send("close-me")
    try:
        await recv(ws)
        emit({"step": "closed-by-server", "error": "a message arrived instead of a close"})
    except ConnectionClosed as closed:
        rcvd = closed.rcvd
        emit({
            "step": "closed-by-server",
            "code": rcvd.code if rcvd else None,
            "reason": rcvd.reason if rcvd else None,
        })


async def deflate(url, compression):
    ws = await websockets.connect(url, compression=compression, max_size=2 ** 25)
    emit({"step": "open", "extensions": [e.name for e in ws.extensions],
          "response_extensions": ws.response_headers.get("Sec-WebSocket-Extensions")})
    # Twice over, in sequence: with context takeover the second round reuses the window.
    for round_ in (1, 2):
        for size in (10, 2048, 65536, 1024 * 1024):
            await echo_step(ws, "deflate-text-%d-%d" % (round_, size), json_like_text(size, size + round_))
            await echo_step(ws, "deflate-binary-%d-%d" % (round_, size), os.urandom(size))
    await asyncio.wait_for(ws.close(1000, "done"), STEP_TIMEOUT)
    emit({"step": "close", "code": ws.close_code, "reason": ws.close_reason})


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("scenario", choices=["basic", "deflate"])
    parser.add_argument("--compression", choices=["deflate", "none"], default="none")
    args = parser.parse_args()
    compression = None if args.compression == "none" else "deflate"
    scenario = basic if args.scenario == "basic" else deflate
    await asyncio.wait_for(scenario(args.url, compression), 60)
    emit({"done": True})


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as error:  # report, do not hide: the test prints it
        emit({"error": "%s: %s" % (type(error).__name__, error)})
        sys.exit(1)
