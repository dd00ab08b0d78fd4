"""The rendered ruleset enforces the policy in a real kernel: packets through a netns router.

Three network namespaces: devices -- router (core gateway, ruleset loaded) -- customers.
UDP datagrams are sent for every (device address, customer address) pair in both directions;
the set that arrives must equal the pairs ``CorePolicy.allows`` accepts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from linkplane.network.policy import Breakout, CorePolicy, Endpoint

pytestmark = pytest.mark.netns

DEVICES = ["100.64.0.1", "100.64.0.2", "100.64.1.1", "100.64.2.1", "100.80.0.1", "100.80.1.1"]
CUSTOMERS = ["10.1.0.1", "10.2.0.1", "192.168.1.1", "10.3.0.1"]
FLEET = [
    Endpoint(1, "100.64.0.1"),
    Endpoint(1, "100.64.0.2", enabled=False),
    Endpoint(2, "100.64.1.1"),
    Endpoint(3, "100.64.2.1"),
]
BREAKOUTS = [
    Breakout(1, ("10.1.0.0/16", "192.168.1.0/24")),
    Breakout(2, ("10.2.0.0/16",)),
    Breakout(3, ("10.3.0.0/16",), active=False),
]
#: Two core regions (pools 100.64.0.0/12 and 100.80.0.0/12): org 1 has devices in both, its
#: breakout 10.1 serves region A only, 10.2 (org 2) serves region B only.
REGION_FLEET = [*FLEET, Endpoint(1, "100.80.0.1"), Endpoint(2, "100.80.1.1")]
REGION_BREAKOUTS = [
    Breakout(1, ("10.1.0.0/16",), pools=("100.64.0.0/12",)),
    Breakout(1, ("192.168.1.0/24",), pools=("100.64.0.0/12", "100.80.0.0/12")),
    Breakout(2, ("10.2.0.0/16",), pools=("100.80.0.0/12",)),
    Breakout(3, ("10.3.0.0/16",), active=False),
]
PORT = 40404

SERVER = textwrap.dedent(
    """
    import socket, sys
    port, out, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(10)
    open(ready, "w").close()
    got = []
    while True:
        data, _ = s.recvfrom(100)
        if data == b"done":
            break
        got.append(data.decode())
    open(out, "w").write("\\n".join(got))
    """
)

SENDER = textwrap.dedent(
    """
    import socket, sys
    port, peer, pairs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    for pair in pairs:
        src, dst = pair.split(">")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.sendto(pair.encode(), (dst, port))
        s.close()
    # Same path, FIFO: when "done" arrives, every earlier datagram has arrived or was dropped.
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"done", (peer, port))
    """
)


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


class Net:
    """The three namespaces; names carry the pid so parallel runs don't collide."""

    def __init__(self) -> None:
        pid = os.getpid()
        self.r, self.d, self.c = f"lpr{pid}", f"lpd{pid}", f"lpc{pid}"

    def up(self, ruleset: Path) -> None:
        r, d, c = self.r, self.d, self.c
        for ns in (r, d, c):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", "vd", "netns", d, "type", "veth", "peer", "rd", "netns", r)
        sh("ip", "link", "add", "vc", "netns", c, "type", "veth", "peer", "rc", "netns", r)
        for ns, dev, addr in [
            (r, "rd", "192.0.2.1/30"),
            (d, "vd", "192.0.2.2/30"),
            (r, "rc", "198.51.100.1/30"),
            (c, "vc", "198.51.100.2/30"),
        ]:
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        for addr in DEVICES:
            sh("ip", "-n", d, "addr", "add", f"{addr}/32", "dev", "vd")
        for addr in CUSTOMERS:
            sh("ip", "-n", c, "addr", "add", f"{addr}/32", "dev", "vc")
        sh("ip", "-n", d, "route", "add", "default", "via", "192.0.2.1")
        sh("ip", "-n", c, "route", "add", "default", "via", "198.51.100.1")
        sh("ip", "-n", r, "route", "add", "100.64.0.0/10", "via", "192.0.2.2")
        for net in ("10.0.0.0/8", "192.168.0.0/16"):
            sh("ip", "-n", r, "route", "add", net, "via", "198.51.100.2")
        sh("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        sh("ip", "netns", "exec", r, "nft", "-f", str(ruleset))

    def down(self) -> None:
        for ns in (self.r, self.d, self.c):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


def deliver(net: Net, tmp: Path, frm: str, to: str, peer: str, pairs: list[str]) -> set[str]:
    """Send ``pairs`` from namespace ``frm``; return the ones that arrived in ``to``."""
    (tmp / "server.py").write_text(SERVER)
    (tmp / "sender.py").write_text(SENDER)
    out, ready = tmp / f"got-{to}", tmp / f"ready-{to}"
    server = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            to,
            sys.executable,
            str(tmp / "server.py"),
            str(PORT),
            str(out),
            str(ready),
        ]
    )
    try:
        for _ in range(500):  # wait for the bind, not for a guessed time
            if ready.exists() or server.poll() is not None:
                break
            subprocess.run(["sleep", "0.01"], check=True)
        sh(
            "ip",
            "netns",
            "exec",
            frm,
            sys.executable,
            str(tmp / "sender.py"),
            str(PORT),
            peer,
            *pairs,
        )
        assert server.wait(timeout=15) == 0
    finally:
        if server.poll() is None:
            server.kill()
    return set(out.read_text().split("\n")) - {""}


@pytest.mark.parametrize(
    ("fleet", "breakouts", "must"),
    [
        (FLEET, BREAKOUTS, {"100.64.0.1>10.1.0.1", "10.2.0.1>100.64.1.1"}),
        # regions: org 1's device in B reaches only the breakout declaring B, org 2's in A none
        (REGION_FLEET, REGION_BREAKOUTS,
         {"100.80.0.1>192.168.1.1", "10.2.0.1>100.80.1.1", "100.64.0.1>10.1.0.1"}),
    ],
    ids=["one-region", "two-regions"],
)  # fmt: skip
def test_kernel_enforces_rendered_policy(
    tmp_path: Path, fleet: list[Endpoint], breakouts: list[Breakout], must: set[str]
) -> None:
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nft"):
        pytest.skip("needs root, iproute2 and nft")
    policy = CorePolicy.compute(fleet, breakouts)
    ruleset = tmp_path / "core.nft"
    ruleset.write_text(policy.render())
    net = Net()
    try:
        try:
            net.up(ruleset)
        except subprocess.CalledProcessError as exc:
            pytest.skip(f"cannot build network namespaces here: {exc.stderr.decode().strip()}")
        out_pairs = [f"{d}>{c}" for d in DEVICES for c in CUSTOMERS]
        back_pairs = [f"{c}>{d}" for c in CUSTOMERS for d in DEVICES]
        got_out = deliver(net, tmp_path, net.d, net.c, "198.51.100.2", out_pairs)
        got_back = deliver(net, tmp_path, net.c, net.d, "192.0.2.2", back_pairs)
    finally:
        net.down()
    want = {p for p in out_pairs + back_pairs if policy.allows(*p.split(">"))}
    assert got_out | got_back == want
    assert must <= want  # not vacuous
