"""The dashboard's figures, gathered from the features' own service functions."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from linkplane.tenancy.principal import Principal


@dataclass(frozen=True)
class Summary:
    devices: list[tuple[str, int]] = field(default_factory=list)
    sims: list[tuple[str, int]] = field(default_factory=list)
    breakouts: list[tuple[str, int]] = field(default_factory=list)
    #: Bytes per day, oldest first; empty until a usage source records any.
    usage: list[tuple[str, int]] = field(default_factory=list)


def summary(*, session: Session, principal: Principal) -> Summary:
    return Summary()
