"""What exists in the cloud for the TGW/RAM flow, and what is left over beyond a baseline.

``snapshot`` reads, through public boto3 calls only (so it works against AWS as well as the
embedded cloud), every RAM share that is not deleted and its principal associations, every
Transit Gateway attachment that is not gone, and every association, propagation and route
(static or propagated, active or blackhole) of the route tables each account owns.

Typical use in a test::

    before = snapshot(endpoint, accounts, regions)
    ...  # provision, fail, roll back
    stale = snapshot(endpoint, accounts, regions).beyond(before)
    assert stale.is_empty(), stale.report()

Records are plain frozen values, so an inventory is compared by set difference: a route that
turned from active to blackhole counts as a new (stale) record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from linkplane.localcloud.accounts import session_for

#: Attachment states of attachments that are gone or going (AWS lists them for a while).
GONE_ATTACHMENT_STATES = frozenset(
    {"deleting", "deleted", "rejecting", "rejected", "failing", "failed"}
)


@dataclass(frozen=True, order=True)
class Share:
    owner_id: str
    region: str
    arn: str
    name: str
    status: str


@dataclass(frozen=True, order=True)
class PrincipalAssociation:
    share_arn: str
    principal: str
    status: str


@dataclass(frozen=True, order=True)
class Attachment:
    region: str
    id: str
    transit_gateway_id: str
    resource_type: str
    resource_id: str
    resource_owner_id: str
    state: str


@dataclass(frozen=True, order=True)
class Association:
    region: str
    route_table_id: str
    attachment_id: str
    state: str


@dataclass(frozen=True, order=True)
class Propagation:
    region: str
    route_table_id: str
    attachment_id: str
    state: str


@dataclass(frozen=True, order=True)
class Route:
    region: str
    route_table_id: str
    destination: str
    type: str  # static | propagated
    state: str  # active | blackhole
    attachment_ids: tuple[str, ...]


@dataclass(frozen=True)
class Inventory:
    """A snapshot; every field is a set of records."""

    shares: frozenset[Share] = field(default_factory=frozenset)
    principal_associations: frozenset[PrincipalAssociation] = field(default_factory=frozenset)
    attachments: frozenset[Attachment] = field(default_factory=frozenset)
    associations: frozenset[Association] = field(default_factory=frozenset)
    propagations: frozenset[Propagation] = field(default_factory=frozenset)
    routes: frozenset[Route] = field(default_factory=frozenset)

    def beyond(self, baseline: Inventory) -> Inventory:
        """Records present now and absent from ``baseline``: what was left behind."""
        return Inventory(
            **{f.name: getattr(self, f.name) - getattr(baseline, f.name) for f in fields(self)}
        )

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def report(self) -> str:
        """One line per record, grouped by kind; for assertion messages."""
        lines = [
            f"{f.name}: {record}" for f in fields(self) for record in sorted(getattr(self, f.name))
        ]
        return "\n".join(lines) or "nothing"


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """Items of a paginated call, following nextToken/NextToken by hand (RAM and EC2 differ)."""
    token_in = "nextToken" if client.meta.service_model.service_name == "ram" else "NextToken"
    while True:
        page = getattr(client, operation)(**kwargs)
        yield from page.get(key, [])
        token = page.get(token_in)
        if not token:
            return
        kwargs[token_in] = token


def _ram(ram: Any, account: str, region: str, into: dict[str, set[Any]]) -> None:
    for share in _pages(ram, "get_resource_shares", "resourceShares", resourceOwner="SELF"):
        if share["status"] != "DELETED":
            into["shares"].add(
                Share(account, region, share["resourceShareArn"], share["name"], share["status"])
            )
    for assoc in _pages(
        ram, "get_resource_share_associations", "resourceShareAssociations",
        associationType="PRINCIPAL",
    ):  # fmt: skip
        if assoc["status"] != "DISASSOCIATED":
            into["principal_associations"].add(
                PrincipalAssociation(
                    assoc["resourceShareArn"], assoc["associatedEntity"], assoc["status"]
                )
            )


def _attachments(ec2: Any, region: str, into: dict[str, set[Any]]) -> None:
    for att in _pages(ec2, "describe_transit_gateway_attachments", "TransitGatewayAttachments"):
        if att["State"] not in GONE_ATTACHMENT_STATES:
            into["attachments"].add(
                Attachment(
                    region,
                    att["TransitGatewayAttachmentId"],
                    att["TransitGatewayId"],
                    att["ResourceType"],
                    att["ResourceId"],
                    att["ResourceOwnerId"],
                    att["State"],
                )
            )


def _routes(ec2: Any, region: str, table_id: str) -> Iterable[Route]:
    found = ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=table_id,
        Filters=[{"Name": "state", "Values": ["active", "blackhole"]}],
        MaxResults=1000,
    )
    if found.get("AdditionalRoutesAvailable"):
        raise RuntimeError(f"{table_id} has more than 1000 routes: inventory would be partial")
    for route in found["Routes"]:
        ids = tuple(
            sorted(
                a["TransitGatewayAttachmentId"] for a in route.get("TransitGatewayAttachments", [])
            )
        )
        yield Route(
            region, table_id, route["DestinationCidrBlock"], route["Type"], route["State"], ids
        )


def _tables(ec2: Any, region: str, into: dict[str, set[Any]]) -> None:
    for table in _pages(ec2, "describe_transit_gateway_route_tables", "TransitGatewayRouteTables"):
        if table["State"] in ("deleting", "deleted"):
            continue
        table_id = table["TransitGatewayRouteTableId"]
        for a in _pages(
            ec2, "get_transit_gateway_route_table_associations", "Associations",
            TransitGatewayRouteTableId=table_id,
        ):  # fmt: skip
            into["associations"].add(
                Association(region, table_id, a["TransitGatewayAttachmentId"], a["State"])
            )
        for p in _pages(
            ec2, "get_transit_gateway_route_table_propagations",
            "TransitGatewayRouteTablePropagations", TransitGatewayRouteTableId=table_id,
        ):  # fmt: skip
            into["propagations"].add(
                Propagation(region, table_id, p["TransitGatewayAttachmentId"], p["State"])
            )
        into["routes"].update(_routes(ec2, region, table_id))


def snapshot(endpoint_url: str | None, accounts: list[str], regions: list[str]) -> Inventory:
    """Everything the listed accounts see in the listed regions. An attachment seen by both its
    creator and its gateway's owner is one record; the two sides of a peering are two (each
    names its own gateway)."""
    into: dict[str, set[Any]] = {f.name: set() for f in fields(Inventory)}
    for account in accounts:
        for region in regions:
            session = session_for(account, region=region, endpoint_url=endpoint_url)
            _ram(session.client("ram", endpoint_url=endpoint_url), account, region, into)
            ec2 = session.client("ec2", endpoint_url=endpoint_url)
            _attachments(ec2, region, into)
            _tables(ec2, region, into)
    return Inventory(**{name: frozenset(records) for name, records in into.items()})
