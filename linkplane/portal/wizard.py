"""The Cloud Connect wizard's form: parsing it and collecting every error before creating.

The rules are the breakouts feature's: the request schema checks shapes, and
:func:`linkplane.attachments.service.create_tgw` checks the rest. Nothing is stored until
the review is confirmed, so the review step runs ``create_tgw`` on a throw-away session that
is always rolled back (no row, no event, no workflow). ``create_tgw`` stops at its first
error; its public CIDR check is run as well so a CIDR problem shows next to the CIDRs even
when, say, the account id is wrong too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from linkplane.attachments import service, vpn
from linkplane.attachments.models import BreakoutType
from linkplane.attachments.regions import region_info
from linkplane.attachments.schemas import BreakoutTgwCreate, BreakoutVpnCreate
from linkplane.errors import LinkplaneError
from linkplane.ids import ascii_digits
from linkplane.settings import Settings
from linkplane.tenancy.principal import Principal

#: Where an error that names no field (or one the form does not have) is shown.
FORM = "form"
FIELDS = ("type", "name", "region", "aws_account_id", "vpc_cidr", "description")


@dataclass
class BreakoutForm:
    """What the customer typed, kept as typed so every step can show it again."""

    name: str = ""
    region: str = ""
    aws_account_id: str = ""
    vpc_cidr: list[str] = field(default_factory=lambda: [""])
    description: str = ""
    type: int = 1

    @classmethod
    def parse(
        cls, *, name: str, region: str, aws_account_id: str, vpc_cidr: list[str],
        description: str, type: int,
    ) -> BreakoutForm:  # fmt: skip
        # Blank CIDR rows are the spare inputs the page offers; they are not CIDRs.
        cidrs = [c.strip() for c in vpc_cidr if c.strip()]
        return cls(name.strip(), region.strip(), aws_account_id.strip(), cidrs or [""],
                   description.strip(), type)  # fmt: skip

    def request(self) -> BreakoutTgwCreate:
        return BreakoutTgwCreate(
            type=self.type, name=self.name, description=self.description,
            vpc_cidr=[c for c in self.vpc_cidr if c], region=self.region,
            aws_account_id=self.aws_account_id,
        )  # fmt: skip


@dataclass(frozen=True)
class _Shape:
    """Where a form shows its errors: next to one of ``names`` (or to a row of the repeated
    ``cidrs`` field), else at the top of the form."""

    names: tuple[str, ...]
    cidrs: str

    def key(self, loc: tuple[object, ...]) -> str:
        """``("vpc_cidr", 0)`` -> ``"vpc_cidr[0]"``, the service's spelling of the field."""
        name = str(loc[0]) if loc else FORM
        if len(loc) > 1 and isinstance(loc[1], int):
            return f"{name}[{loc[1]}]"
        return name if name in self.names else FORM

    def put(self, errors: dict[str, str], key: str | None, message: str) -> None:
        named = key and (key in self.names or key.startswith(f"{self.cidrs}["))
        errors.setdefault(key if key and named else FORM, message)


_TGW = _Shape(FIELDS, "vpc_cidr")


def put_error(errors: dict[str, str], key: str | None, message: str) -> None:
    _TGW.put(errors, key, message)


def _schema_errors(shape: _Shape, request: Callable[[], object]) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        request()
    except ValidationError as exc:
        for err in exc.errors():
            shape.put(errors, shape.key(tuple(err["loc"])), err["msg"])
    return errors


def _dry_run(
    shape: _Shape, factory: sessionmaker[Session], create: Callable[[Session], object]
) -> dict[str, str]:
    """``create`` on a session that is always rolled back: no row, event or workflow."""
    errors: dict[str, str] = {}
    with factory() as session:
        try:
            create(session)
        except LinkplaneError as exc:
            shape.put(errors, exc.field, exc.message)
        finally:
            session.rollback()
    return errors


def _cidr_errors(
    shape: _Shape, factory: sessionmaker[Session], settings: Settings, *, region_name: str,
    cidrs: list[str], org_id: int,
) -> dict[str, str]:  # fmt: skip
    errors: dict[str, str] = {}
    with factory() as session:
        region = region_info(session=session, name=region_name)
        if region is None:
            return errors
        try:
            service.validate_cidrs(
                session=session, settings=settings, region=region,
                cidrs=[c for c in cidrs if c], org_id=org_id, field=shape.cidrs,
            )  # fmt: skip
        except LinkplaneError as exc:
            shape.put(errors, exc.field, exc.message)
    return errors


def _collect(
    shape: _Shape, factory: sessionmaker[Session], settings: Settings, principal: Principal,
    *, found: dict[str, str], request: Callable[[], object],
    create: Callable[[Session], object], region: str, cidrs: list[str],
) -> dict[str, str]:  # fmt: skip
    """``found`` (checks of the form's own), the schema's errors, the service's first error
    (only when the rest is clean: it stops at its first), and the CIDR check on its own so a
    CIDR problem shows next to the CIDRs whatever else is wrong."""
    errors = dict(found)
    for key, message in _schema_errors(shape, request).items():
        errors.setdefault(key, message)
    if not errors:
        errors.update(_dry_run(shape, factory, create))
    if not any(key.startswith(shape.cidrs) for key in errors):
        for key, message in _cidr_errors(shape, factory, settings, region_name=region,
                                         cidrs=cidrs, org_id=principal.org_id).items():  # fmt: skip
            errors.setdefault(key, message)
    return errors


def validate(
    factory: sessionmaker[Session], settings: Settings, principal: Principal, form: BreakoutForm
) -> dict[str, str]:
    """Every problem of ``form`` by field; empty means ``create_tgw`` would accept it now."""

    def create(session: Session) -> object:
        return service.create_tgw(session=session, settings=settings, principal=principal,
                                  data=form.request())  # fmt: skip

    return _collect(_TGW, factory, settings, principal, found={}, request=form.request,
                    create=create, region=form.region, cidrs=form.vpc_cidr)  # fmt: skip


# --- VPN breakouts (types 2 static, 3 BGP, 4 BGP HA) ----------------------------------------
VPN_FIELDS = ("type", "name", "region", "public_ip", "public_ip_2", "psk", "asn", "on_prem_cidr",
              "description")


@dataclass
class VpnForm:
    """A VPN breakout's details as typed (the ASN too: "abc" is shown back with its error)."""

    type: int = BreakoutType.IPSEC_VPN
    name: str = ""
    region: str = ""
    public_ip: str = ""
    psk: str = ""
    asn: str = ""
    on_prem_cidr: list[str] = field(default_factory=lambda: [""])
    description: str = ""
    #: Type 4 only: the second VPN server (its own customer gateway and VPN connection).
    public_ip_2: str = ""

    @property
    def bgp(self) -> bool:
        return self.type in (BreakoutType.VPN_BGP, BreakoutType.VPN_BGP_HA)

    @property
    def ha(self) -> bool:
        return self.type == BreakoutType.VPN_BGP_HA

    @classmethod
    def parse(
        cls, *, type: int, name: str, region: str, public_ip: str, psk: str, asn: str,
        on_prem_cidr: list[str], description: str, public_ip_2: str = "",
    ) -> VpnForm:  # fmt: skip
        cidrs = [c.strip() for c in on_prem_cidr if c.strip()]
        return cls(type, name.strip(), region.strip(), public_ip.strip(), psk.strip(),
                   asn.strip(), cidrs or [""], description.strip(),
                   public_ip_2.strip() if type == BreakoutType.VPN_BGP_HA else "")  # fmt: skip

    def request(self) -> BreakoutVpnCreate:
        # The ASN only for BGP: a static VPN's customer gateway takes AWS's default.
        asn = self.asn if self.bgp and self.asn else None
        return BreakoutVpnCreate.model_validate({
            "type": self.type, "name": self.name, "description": self.description,
            "region": self.region, "public_ip": self.public_ip, "psk": self.psk or None,
            "asn": asn, "on_prem_cidr": [c for c in self.on_prem_cidr if c],
            **({"public_ip_2": self.public_ip_2} if self.ha else {}),
        })  # fmt: skip


_VPN = _Shape(VPN_FIELDS, "on_prem_cidr")


def put_vpn_error(errors: dict[str, str], key: str | None, message: str) -> None:
    _VPN.put(errors, key, message)


def _vpn_field_checks(form: VpnForm) -> dict[str, str]:
    """The checks that need no database, each on its own so every bad field is shown."""
    errors: dict[str, str] = {}
    kind = BreakoutType(form.type)
    checks: list[Callable[[], object]] = [
        lambda: vpn.check_public_ip(form.public_ip),
        lambda: vpn.check_psk(form.psk or None),
    ]
    if form.ha:
        checks.append(lambda: vpn.check_second_ip(kind, form.public_ip_2 or None,
                                                  form.public_ip))  # fmt: skip
    if form.bgp and (not form.asn or ascii_digits(form.asn)):
        checks.append(lambda: vpn.check_asn(kind, int(form.asn) if form.asn else None))
    for check in checks:
        try:
            check()
        except LinkplaneError as exc:
            put_vpn_error(errors, exc.field, exc.message)
    return errors


def validate_vpn(
    factory: sessionmaker[Session], settings: Settings, principal: Principal, form: VpnForm
) -> dict[str, str]:
    """Every problem of ``form`` by field; empty means ``create_vpn`` would accept it now."""
    if form.type not in (BreakoutType.IPSEC_VPN, BreakoutType.VPN_BGP, BreakoutType.VPN_BGP_HA):
        return {"type": f"type {form.type} cannot be created here; choose 2, 3 or 4"}

    def create(session: Session) -> object:
        return service.create_vpn(session=session, settings=settings, principal=principal,
                                  data=form.request())  # fmt: skip

    return _collect(_VPN, factory, settings, principal, found=_vpn_field_checks(form),
                    request=form.request, create=create, region=form.region,
                    cidrs=form.on_prem_cidr)  # fmt: skip
