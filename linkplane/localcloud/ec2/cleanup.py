"""What a deleted VPC or subnet leaves behind in moto 5.2.5, and must not.

Network ACLs go with their VPC and subnet, as on AWS.

AWS deletes a VPC's default network ACL with the VPC, and a subnet's ACL association with
the subnet. moto left both behind: the default ACL (four entries) of every deleted VPC and an
association naming every deleted subnet, so customer churn grew the embedded cloud's memory
and ``DescribeNetworkAcls`` listed ACLs of VPCs that no longer exist.

moto also caches each subnet's address iterator with ``functools.cache`` on the method, a
process-wide cache keyed by the subnet object: no subnet was ever freed. The iterator is
kept on the subnet instead, and goes with it (a picklable one, for the snapshot).
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

Method = Callable[..., Any]


def wrap_delete_subnet(original: Method) -> Method:
    def delete_subnet(self: Any, subnet_id: str) -> Any:
        subnet = original(self, subnet_id)
        for acl in self.network_acls.values():
            for key in [k for k, a in acl._associations.items() if a.subnet_id == subnet_id]:
                del acl._associations[key]
        return subnet

    return delete_subnet


def wrap_delete_vpc(original: Method) -> Method:
    def delete_vpc(self: Any, vpc_id: str) -> Any:
        vpc = original(self, vpc_id)
        for acl_id in [i for i, acl in self.network_acls.items()
                       if acl.vpc_id == vpc_id and acl.default]:  # fmt: skip
            del self.network_acls[acl_id]
        return vpc

    return delete_vpc


class Hosts:
    """A subnet's usable addresses in order, as ``cidr.hosts()`` yields them, but picklable:
    the embedded cloud's snapshot (:mod:`linkplane.localcloud.snapshot`) pickles every
    subnet, and a generator cannot be pickled."""

    def __init__(self, cidr: IPv4Network | IPv6Network) -> None:
        self._cidr = cidr
        size = cidr.num_addresses
        if size <= 2:  # /31, /32, /127, /128: every address is a host
            self._next, self._end = 0, size
        elif cidr.version == 4:  # neither the network nor the broadcast address
            self._next, self._end = 1, size - 1
        else:  # IPv6: all but the subnet-router anycast address
            self._next, self._end = 1, size

    def __iter__(self) -> Hosts:
        return self

    def __next__(self) -> IPv4Address | IPv6Address:
        if self._next >= self._end:
            raise StopIteration
        self._next += 1
        return self._cidr.network_address + (self._next - 1)


def subnet_hosts(self: Any) -> Any:
    """``Subnet._base_avail_ip_iterator``: one iterator per subnet, kept on the subnet."""
    hosts = self.__dict__.get("_lp_hosts")
    if hosts is None:
        hosts = self.__dict__["_lp_hosts"] = Hosts(self.cidr)
    return hosts


def forget_expired_attachments(backend: Any) -> int:
    """Free ``backend``'s attachments past the retention window (:mod:`..retention`), also
    from the other backend that lists them (the creator's, or the gateway owner's), with
    their tags. Runs under the EC2 extension's lock, at most every ``retention.EVERY``.
    The dictionaries are replaced, not changed in place: a describe iterating the old one in
    another request thread finishes undisturbed."""
    from linkplane.localcloud import retention
    from linkplane.localcloud.ec2 import model

    now = model.clock()
    if not retention.due(backend, now):
        return 0
    expired = [a for a in list(backend.transit_gateway_attachments.values())
               if model.is_expired(a, now)]  # fmt: skip
    for attachment in expired:
        holders = {id(b): b for b in (backend, getattr(attachment, "ec2_backend", None)) if b}
        for holder in holders.values():
            _forget(holder, attachment.id)
    return len(expired)


def _forget(backend: Any, attachment_id: str) -> None:
    table = backend.transit_gateway_attachments
    if attachment_id in table:
        backend.transit_gateway_attachments = {k: v for k, v in table.items()
                                               if k != attachment_id}  # fmt: skip
    tags = getattr(backend, "tags", None)
    if isinstance(tags, dict):
        tags.pop(attachment_id, None)
