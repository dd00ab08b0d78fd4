"""What a deleted VPC or subnet leaves behind in moto 5.2.5, and must not.

Network ACLs go with their VPC and subnet, as on AWS.

AWS deletes a VPC's default network ACL with the VPC, and a subnet's ACL association with
the subnet. moto left both behind: the default ACL (four entries) of every deleted VPC and an
association naming every deleted subnet, so customer churn grew the embedded cloud's memory
and ``DescribeNetworkAcls`` listed ACLs of VPCs that no longer exist.

moto also caches each subnet's address iterator with ``functools.cache`` on the method, a
process-wide cache keyed by the subnet object: no subnet was ever freed. The iterator is
kept on the subnet instead, and goes with it.
"""

from __future__ import annotations

from collections.abc import Callable
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


def subnet_hosts(self: Any) -> Any:
    """``Subnet._base_avail_ip_iterator``: one iterator per subnet, kept on the subnet."""
    hosts = self.__dict__.get("_lp_hosts")
    if hosts is None:
        hosts = self.__dict__["_lp_hosts"] = self.cidr.hosts()
    return hosts
