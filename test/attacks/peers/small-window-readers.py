"""Slow consumers as they would reach a server over a network, for test/attacks/slow-consumers.test.ts.

N connections complete the WebSocket handshake and then never read. Over loopback, two things
differ from a network, and both make the kernel, not the server, the victim of 5,000 such peers:
- the peers' receive buffers are in the server's kernel too: each is set small (SO_RCVBUF, before
  connect so that the window is scaled for it), as on the peer's own machine;
- loopback's MTU is 64 KiB, and Linux sizes a new socket's send buffer from ten segments (a ~2.5 MiB
  send buffer per connection, where Ethernet gives ~100 KiB): each peer announces an Ethernet MSS
  (TCP_MAXSEG 1460, RFC 9293 §3.7.1), so the server's sockets are sized as for peers on a network.
Without these, 5,000 peers filled the kernel's TCP memory (dmesg: "TCP: out of memory"), and the
kernel reset and stalled the good clients' connections. Node sets neither option on a TCP socket;
Python's socket module does.

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
    parser.add_argument("--mss", type=int, default=1460)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    sockets = []
    failures = []
    started = time.monotonic()
    for _ in range(args.conns):
        try:
            sockets.append(open_upgraded(args.port, args.rcvbuf, args.mss))
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
        "mss": sockets[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG) if sockets else None,
    })
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    print_json({"event": "report", "mode": "small-window-readers", "opened": len(sockets)})


def open_upgraded(port: int, rcvbuf: int, mss: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
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
