"""What the routing model reads, as structural types: anything with these attributes will
do (the cloud port's value types have them), so ``network`` depends on nothing outside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class TableRead(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def tags(self) -> Mapping[str, str]: ...


class RouteRead(Protocol):
    @property
    def route_table_id(self) -> str: ...

    @property
    def cidr(self) -> str: ...

    @property
    def type(self) -> str: ...  # static | propagated

    @property
    def state(self) -> str: ...  # active | blackhole

    @property
    def attachment_ids(self) -> Sequence[str]: ...


class AttachmentRead(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def resource_type(self) -> str: ...

    @property
    def resource_owner_id(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def association_route_table_id(self) -> str | None: ...

    @property
    def association_state(self) -> str | None: ...

    @property
    def tags(self) -> Mapping[str, str]: ...


class AssociationRead(Protocol):
    @property
    def route_table_id(self) -> str: ...

    @property
    def attachment_id(self) -> str: ...

    @property
    def state(self) -> str: ...


class PropagationRead(Protocol):
    @property
    def route_table_id(self) -> str: ...

    @property
    def attachment_id(self) -> str: ...

    @property
    def state(self) -> str: ...
