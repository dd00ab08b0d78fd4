"""EC2 ``Filters`` over rendered API items, with AWS semantics.

AWS: several values of one filter are OR-ed, several filters are AND-ed, values accept the
``*`` and ``?`` wildcards, ``tag:KEY`` matches a tag value and ``tag-key`` a tag key. An
unknown filter name is refused with ``InvalidParameterValue`` rather than silently ignored
(moto 5.2.5 ignored the attachment filters, so a caller filtering by state got everything).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from linkplane.localcloud.ec2 import errors

Item = dict[str, Any]
Field = Callable[[Item], list[str]]


def key(name: str) -> Field:
    """A field read from a top-level key of the item."""
    return lambda item: [str(item[name])] if item.get(name) is not None else []


def nested(outer: str, inner: str) -> Field:
    def read(item: Item) -> list[str]:
        value = (item.get(outer) or {}).get(inner)
        return [str(value)] if value is not None else []

    return read


def _tag_field(name: str) -> Field | None:
    if name.startswith("tag:"):
        tag_key = name[4:]
        return lambda item: [t["Value"] for t in item.get("Tags", []) if t["Key"] == tag_key]
    if name == "tag-key":
        return lambda item: [t["Key"] for t in item.get("Tags", [])]
    return None


def _matches(values: list[str], patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(value, pattern) for value in values for pattern in patterns)


def apply(
    items: list[Item], filters: Mapping[str, Sequence[str]], fields: Mapping[str, Field]
) -> list[Item]:
    for name, patterns in filters.items():
        field = fields.get(name) or _tag_field(name)
        if field is None:
            raise errors.invalid_parameter(f"The filter '{name}' is invalid")
        items = [item for item in items if _matches(field(item), patterns)]
    return items


# --- SearchTransitGatewayRoutes -------------------------------------------------------------

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _net(value: str) -> Net:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise errors.invalid_parameter(f"Invalid CIDR block {value}") from exc


def _same_version(a: Net, b: Net) -> bool:
    return a.version == b.version


def _subnet_of(a: Net, b: Net) -> bool:
    return _same_version(a, b) and a.subnet_of(b)  # type: ignore[arg-type]


def _route_net(route: Item) -> Net:
    return _net(route["DestinationCidrBlock"])


def _cidr_predicate(name: str, value: Net) -> Callable[[Item], bool]:
    # AWS API reference, SearchTransitGatewayRoutes "Filters".
    if name == "route-search.exact-match":
        return lambda route: _route_net(route) == value
    if name == "route-search.subnet-of-match":
        return lambda route: _subnet_of(_route_net(route), value)
    if name == "route-search.supernet-of-match":
        return lambda route: _subnet_of(value, _route_net(route))
    raise AssertionError(name)


ROUTE_FIELDS: dict[str, Field] = {
    "state": key("State"),
    "type": key("Type"),
    "attachment.transit-gateway-attachment-id": lambda r: [
        a["TransitGatewayAttachmentId"] for a in r["TransitGatewayAttachments"]
    ],
    "attachment.resource-id": lambda r: [a["ResourceId"] for a in r["TransitGatewayAttachments"]],
    "attachment.resource-type": lambda r: [
        a["ResourceType"] for a in r["TransitGatewayAttachments"]
    ],
}
CIDR_FILTERS = (
    "route-search.exact-match",
    "route-search.subnet-of-match",
    "route-search.supernet-of-match",
)
LONGEST = "route-search.longest-prefix-match"


def _longest_prefix(routes: list[Item], values: Sequence[str]) -> list[Item]:
    """Per value, the most specific routes that contain it (OR over values)."""
    kept: list[Item] = []
    for value in map(_net, values):
        covering = [r for r in routes if _subnet_of(value, _route_net(r))]
        if covering:
            best = max(_route_net(r).prefixlen for r in covering)
            kept += [r for r in covering if _route_net(r).prefixlen == best and r not in kept]
    return kept


def apply_route_search(routes: list[Item], filters: Mapping[str, Sequence[str]]) -> list[Item]:
    plain = {n: v for n, v in filters.items() if n not in CIDR_FILTERS and n != LONGEST}
    routes = apply(routes, plain, ROUTE_FIELDS)
    for name in CIDR_FILTERS:
        if name in filters:
            predicates = [_cidr_predicate(name, _net(v)) for v in filters[name]]
            routes = [r for r in routes if any(p(r) for p in predicates)]
    if LONGEST in filters:
        routes = _longest_prefix(routes, filters[LONGEST])
    return routes
