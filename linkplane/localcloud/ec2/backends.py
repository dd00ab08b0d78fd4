"""Where TGW state lives across accounts, and who may see a gateway.

moto keeps one EC2 backend per (account, region): ``ec2_backends[account][region]``. A TGW
lives in its owner's backend. An attachment lives in the TGW owner's backend and, when another
account created it, in that account's backend too (the same object, as moto already does for
peering), so each side lists it from its own backend. Route tables, associations, propagations
and routes exist only in the TGW owner's backend: only the owner can change routing, as in AWS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from moto.ec2.models import ec2_backends

from linkplane.localcloud import sharing
from linkplane.localcloud.ec2 import errors

# The HTTP server is threaded and one call can touch several accounts' backends.
LOCK = threading.RLock()

P = ParamSpec("P")
R = TypeVar("R")


def locked(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` under the EC2 extension's lock (cross-account changes are not atomic)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with LOCK:
            return func(*args, **kwargs)

    return wrapper


def backend_of(account_id: str, region: str) -> Any:
    return ec2_backends[account_id][region]


def existing_backends() -> Iterator[Any]:
    """Every EC2 backend created so far (never creates one)."""
    yield from _snapshot()


def _snapshot() -> list[Any]:
    # moto's backend registry grows, unlocked, when another request thread first touches an
    # account or region; iterating it meanwhile raises RuntimeError. The registry only grows,
    # so a second look sees a consistent, complete snapshot.
    for _ in range(10):
        try:
            return [backend for _a, _r, backend in ec2_backends.iter_backends()]
        except RuntimeError:
            continue
    return [backend for _a, _r, backend in ec2_backends.iter_backends()]


def backends_holding(attachment_id: str) -> list[Any]:
    """Backends that list the attachment: its TGW owner's, its creator's, a peer's."""
    return [b for b in existing_backends() if attachment_id in b.transit_gateway_attachments]


def _tgw_from_arn(arn: str) -> Any | None:
    # arn:aws:ec2:REGION:OWNER:transit-gateway/tgw-...
    parts = arn.split(":", 5)
    if len(parts) < 6 or not parts[5].startswith("transit-gateway/"):
        return None
    backend = backend_of(parts[4], parts[3])
    return backend.transit_gateways.get(parts[5].split("/", 1)[1])


def shared_tgws(account_id: str, region: str) -> list[Any]:
    """Gateways of other accounts that ``account_id`` may use (accepted RAM share)."""
    found = (_tgw_from_arn(arn) for arn in sharing.shared_resource_arns(account_id, region))
    return [tgw for tgw in found if tgw is not None]


def visible_tgws(account_id: str, region: str) -> list[Any]:
    own = list(backend_of(account_id, region).transit_gateways.values())
    return own + shared_tgws(account_id, region)


def visible_tgw(account_id: str, region: str, tgw_id: str) -> Any:
    """The gateway as ``account_id`` may use it, or AWS's NotFound error: an unshared gateway of
    another account is indistinguishable from one that does not exist."""
    own = backend_of(account_id, region).transit_gateways.get(tgw_id)
    if own is not None:
        return own
    for tgw in shared_tgws(account_id, region):
        if tgw.id == tgw_id:
            return tgw
    raise errors.tgw_not_found(tgw_id)


def owner_backend(tgw: Any) -> Any:
    return tgw.ec2_backend


#: Gateway id -> gateway, filled by :func:`tgw_by_id`. Scanning every backend per lookup made
#: DescribeTransitGatewayAttachments cost attachments x accounts: with 1,000 customer accounts
#: the embedded cloud spent most of its time there (py-spy, bench_breakouts N=1000).
_tgw_index: dict[str, Any] = {}


def tgw_by_id(tgw_id: str) -> Any | None:
    """Any gateway by id, whoever owns it (ids are unique across the embedded cloud)."""
    tgw = _tgw_index.get(tgw_id)
    if tgw is not None and _current(tgw):
        return tgw
    for backend in existing_backends():
        tgw = backend.transit_gateways.get(tgw_id)
        if tgw is not None:
            _tgw_index[tgw_id] = tgw
            return tgw
    return None


def _current(tgw: Any) -> bool:
    """Is ``tgw`` still its registered backend's gateway? A moto reset replaces every backend.

    ``dict.get`` reads moto's registries without the lookups that create missing entries.
    """
    backend: Any = tgw.ec2_backend
    gateways: dict[str, Any] = backend.transit_gateways
    accounts: Any = dict.get(ec2_backends, backend.account_id)
    registered = dict.get(accounts, backend.region_name) if accounts is not None else None
    return registered is backend and gateways.get(tgw.id) is tgw
