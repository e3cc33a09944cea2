"""Slow consumers with a small receive window, for test/attacks/slow-consumers.test.ts.

N connections complete the WebSocket handshake and then never read. Each socket's receive buffer
is set small (SO_RCVBUF, before connect so that the window is scaled for it), as a peer's own
machine would keep it: over loopback the peers' receive buffers are in the server's kernel too, and
5,000 of them at the default size (tcp_rmem) push the kernel into TCP memory pressure, where it
drops packets of every connection, the good clients' included. Node cannot set SO_RCVBUF on a TCP
socket; Python's socket module can.

Protocol (as test/attacks/peers/attacker.ts): one JSON line {"event": "ready", "opened": N, ...}
once the connections are open; on "stop" (or stdin closed) a {"event": "report", ...} line, exit 0.
"""
import argparse
import base64
import json
import os
import resource
import socket
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--conns", type=int, default=1000)
    parser.add_argument("--rcvbuf", type=int, default=4096)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    sockets = []
    failures = []
    started = time.monotonic()
    for _ in range(args.conns):
        try:
            sockets.append(open_upgraded(args.port, args.rcvbuf))
        except OSError as error:
            failures.append(str(error))
        if time.monotonic() - started > 50:
            failures.append("opening took over 50 s")
            break
    print_json({
        "event": "ready",
        "mode": "small-window-readers",
        "opened": len(sockets),
        "failed": len(failures),
        "firstFailure": failures[0] if failures else None,
        "rcvbuf": sockets[0].getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) if sockets else None,
    })
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    print_json({"event": "report", "mode": "small-window-readers", "opened": len(sockets)})


def open_upgraded(port: int, rcvbuf: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    request = (
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode("ascii"))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1024)
        if not chunk:
            raise OSError("closed during the handshake")
        head += chunk
        if len(head) > 16384:
            raise OSError("response head too long")
    status = head.split(b"\r\n", 1)[0]
    if b" 101 " not in status + b" ":
        raise OSError(f"handshake refused: {status.decode('latin-1')}")
    return sock


def print_json(value: dict) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
