"""Packet probes run inside a lab namespace (``ip netns exec NS python probe.py ...``).

Standard library only, run by file path: no package import in the namespace. There is no
``ping`` binary on every host, so ICMP echo is sent from a raw socket (root).

    probe.py ping SRC DST [TIMEOUT]      exit 0 when an echo reply from DST arrives
    probe.py tcp SRC DST PORT [TIMEOUT]  exit 0 when a TCP connection is accepted
    probe.py serve PORT                  accept and close TCP connections until killed
"""

from __future__ import annotations

import os
import select
import socket
import struct
import sys
import time


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ping(src: str, dst: str, timeout: float) -> bool:
    ident = os.getpid() & 0xFFFF
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    payload = b"linkplane-lab"
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, 1) + payload
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        sock.bind((src, 0))
        sock.sendto(packet, (dst, 0))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                return False
            data, addr = sock.recvfrom(1024)
            icmp = data[(data[0] & 0x0F) * 4 :]
            kind, _, _, got_id, _ = struct.unpack("!BBHHH", icmp[:8])
            if kind == 0 and got_id == ident and addr[0] == dst:
                return True
    return False


def tcp(src: str, dst: str, port: int, timeout: float) -> bool:
    try:
        socket.create_connection((dst, port), timeout=timeout, source_address=(src, 0)).close()
    except OSError:
        return False
    return True


def serve(port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", port))
        sock.listen(64)
        while True:
            conn, _ = sock.accept()
            conn.close()


def main(argv: list[str]) -> int:
    cmd, args = argv[0], argv[1:]
    if cmd == "serve":
        serve(int(args[0]))
        return 0
    if cmd == "ping":
        return 0 if ping(args[0], args[1], float(args[2]) if len(args) > 2 else 1.0) else 1
    timeout = float(args[3]) if len(args) > 3 else 1.0
    return 0 if tcp(args[0], args[1], int(args[2]), timeout) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
