"""Python `websockets` (10.x, legacy asyncio API) echo server peer for the wsforge interop tests.

Usage: /usr/bin/python3 python_server.py [--compression deflate|none]

Prints {"event": "listening", "port": N} once ready, then one JSON line per event:
connection (path, subprotocol, extensions), message (path, type, length, sha256), pong,
closed (path, code, reason). Echoes every message with its type, except commands:
  "ping-me"             -> pings the client with b"from-python" and reports the pong
  "fragments-please"    -> sends "p1-p2-p3" as one fragmented message
  "close-me:CODE:REASON" -> closes with that code and reason
Stops on SIGTERM.
"""
import argparse
import asyncio
import hashlib
import json
import signal

import websockets
from websockets.exceptions import ConnectionClosed


def emit(record):
    print(json.dumps(record), flush=True)


def describe(message):
    data = message if isinstance(message, bytes) else message.encode("utf-8")
    return {
        "type": "binary" if isinstance(message, bytes) else "text",
        "length": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


async def handler(ws):
    path = ws.path
    emit({
        "event": "connection",
        "path": path,
        "subprotocol": ws.subprotocol,
        "extensions": [e.name for e in ws.extensions],
        "response_extensions": ws.response_headers.get("Sec-WebSocket-Extensions"),
    })
    try:
        async for message in ws:
            if message == "ping-me":
                waiter = await ws.ping(b"from-python")
                await asyncio.wait_for(waiter, 10)
                emit({"event": "pong", "path": path})
                continue
            if message == "fragments-please":
                await ws.send(["p1-", "p2-", "p3"])
                continue
            if isinstance(message, str) and message.startswith("close-me:"):
                _, code, reason = message.split(":", 2)
                await ws.close(int(code), reason)
                break
            emit(dict(event="message", path=path, **describe(message)))
            await ws.send(message)
    except ConnectionClosed:
        pass
    await ws.wait_closed()
    emit({"event": "closed", "path": path, "code": ws.close_code, "reason": ws.close_reason})


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--compression", choices=["deflate", "none"], default="none")
    args = parser.parse_args()
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(
        handler,
        "127.0.0.1",
        0,
        compression=None if args.compression == "none" else "deflate",
        subprotocols=["chat"],
        max_size=2 ** 25,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        emit({"event": "listening", "port": port})
        await stop


if __name__ == "__main__":
    asyncio.run(main())
