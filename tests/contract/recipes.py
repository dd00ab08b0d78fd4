"""How the contract test calls every served operation: a tenant with a fleet, SIMs, usage,
a Cloud Connect breakout and tariff choices, and one ordered recipe per operation.

A new route that serves a published operation needs a recipe here (the contract test fails
naming it otherwise). A recipe is a step: method and path (filled from what earlier steps
stored), an optional body and query, and the status it must answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from linkplane.db import transaction, utcnow
from linkplane.devices.seed import seed_demo_fleet
from linkplane.mfa import vault
from linkplane.sims import importer
from linkplane.sims import service as sims
from linkplane.tenancy import service as tenancy
from linkplane.usage import service as usage

PASSWORD = "contract-tests-pw-1"
PARAM_RE = re.compile(r"{[^}]+}")


@dataclass
class World:
    client: TestClient
    org_id: int
    headers: dict[str, str]
    username: str
    region: str
    #: Ids found by earlier steps (``{endpoint}``, ``{sim}``...), used to fill paths.
    ids: dict[str, Any] = field(default_factory=dict)

    def get(self, path: str, **params: Any) -> Any:
        r = self.client.get(path, params=params, headers=self.headers)
        assert r.status_code == 200, (path, r.text)
        return r.json()


@dataclass(frozen=True)
class Step:
    operation_id: str
    method: str
    path: str
    status: int
    body: Any = None
    params: dict[str, Any] | None = None
    #: Called with the response body of a successful step, to store ids for later steps.
    keep: Callable[[World, Any], None] | None = None
    #: No bearer token (``POST /authenticate``).
    anonymous: bool = False


def _sim_rows(org_tag: int, start: int, count: int, bic: str) -> str:
    lines = ["iccid,imsi,msisdn,bic"]
    for n in range(start, start + count):
        serial = org_tag * 10_000 + n
        lines.append(f"8988303{serial:012d},90143{serial:010d},88{serial:09d},{bic}")
    return "\n".join(lines) + "\n"


def build(client: TestClient, factory: Any, settings: Any, region: str, tag: str) -> World:
    """A fresh organisation (its fleet seeded), two SIM batches shipped to it and a token."""
    with transaction(factory) as session:
        org, admin = tenancy.create_org_with_admin(
            session=session, name=f"contract-{tag}", admin_email=f"admin-{tag}@contract.example",
            admin_password=PASSWORD)  # fmt: skip
        seed_demo_fleet(session=session, org_id=org.id)
        org_id, admin_id, username = org.id, admin.id, admin.username
        serial = org_id % 900 + 100
        for start, bic in ((1, f"CT{tag}A"), (20, f"CT{tag}B")):
            rows = importer.parse(_sim_rows(serial, start, 5, bic))
            sims.import_rows(session=session, org_id=org_id, rows=rows)
    token = tenancy.mint(settings=settings, org_id=org_id, role="admin", user_id=admin_id)
    world = World(client, org_id, {"Authorization": f"Bearer {token}"}, username, region)
    world.ids.update(org=org_id, bic=f"CT{tag}A", bic2=f"CT{tag}B", tag=tag)
    return world


def add_usage(world: World, factory: Any) -> None:
    """A day of traffic (this hour included) on the endpoint and SIM the steps made."""
    now = utcnow()
    row = usage.UsageIn(endpoint_id=world.ids["endpoint"], day=now.date(), hour=now.hour,
                        bytes_tx=1_500_000, bytes_rx=2_500_000)  # fmt: skip
    with transaction(factory) as session:
        usage.record_usage(session=session, rows=[row])


def _keep(name: str, key: str = "id") -> Callable[[World, Any], None]:
    def keep(world: World, body: Any) -> None:
        world.ids[name] = body[key] if isinstance(body, dict) else body[0][key]

    return keep


def _keep_first(name: str) -> Callable[[World, Any], None]:
    def keep(world: World, body: Any) -> None:
        world.ids[name] = body[0]["id"]

    return keep


def fleet_steps(w: World) -> Iterator[Step]:
    """Lookups, profiles, SIMs and endpoints (single and bulk)."""
    yield Step("endpoint-status-get", "GET", "/api/v1/endpoint/status", 200)
    yield Step("sim-status-get", "GET", "/api/v1/sim/status", 200)
    yield Step("operator-get", "GET", "/api/v1/operator", 200)
    yield Step("event-type-get", "GET", "/api/v1/event/type", 200)
    yield Step("organisation-status-get", "GET", "/api/v1/organisation/status", 200)
    yield Step("my-organisation-get", "GET", "/api/v1/organisation/my", 200)
    yield Step("service-profile-get", "GET", "/api/v1/service_profile", 200, keep=_keep_first("sp"))
    yield Step("tariff-profile-get", "GET", "/api/v1/tariff_profile", 200, keep=_keep_first("tp"))
    yield Step("service-profile-post", "POST", "/api/v1/service_profile", 201,
               body={"name": "contract sp", "description": "x"}, keep=_keep("sp2"))
    yield Step("service-profile-by-profile-id-get", "GET", "/api/v1/service_profile/{sp2}", 200)
    yield Step("service-profile-by-profile-id-patch", "PATCH", "/api/v1/service_profile/{sp2}",
               204, body={"allowed_3g": False})
    yield Step("service-profile-by-profile-id-delete", "DELETE", "/api/v1/service_profile/{sp2}",
               204)
    yield Step("tariff-profile-post", "POST", "/api/v1/tariff_profile", 201,
               body={"name": "contract tp", "description": "x"}, keep=_keep("tp2"))
    yield Step("tariff-profile-by-id-get", "GET", "/api/v1/tariff_profile/{tp2}", 200)
    yield Step("tariff-profile-by-id-patch", "PATCH", "/api/v1/tariff_profile/{tp2}", 204,
               body={"description": "y"})
    yield Step("tariff-profile-by-id-delete", "DELETE", "/api/v1/tariff_profile/{tp2}", 204)
    yield Step("validate-sim-batch-by-bic", "GET", "/api/v1/sim_batch/bic/{bic}", 200)
    yield Step("register-sim-batch-by-bic", "PATCH", "/api/v1/sim_batch/bic/{bic}", 200,
               body={"sim_status": {"id": 0}}, keep=lambda w, b: w.ids.update(
                   sim=b["sim"][0]["id"], sim2=b["sim"][1]["id"], sim3=b["sim"][2]["id"],
                   sim4=b["sim"][3]["id"], sim5=b["sim"][4]["id"]))
    yield Step("validate-sim-batch-by-bic", "GET", "/api/v1/sim_batch/bic/{bic}", 400)
    yield Step("sim-per-page-sort-by-q-and-page-get", "GET", "/api/v1/sim", 200,
               params={"q": "endpoint:null", "sort": "-id"})
    yield Step("sim-by-id-patch", "PATCH", "/api/v1/sim/{sim2}", 204, body={"status": {"id": 1}})
    yield Step("sim-by-id-patch", "PATCH", "/api/v1/sim/{sim2}", 422, body={"status": {"id": 0}})
    yield Step("sim-by-id-get", "GET", "/api/v1/sim/{sim2}", 200)
    yield Step("sim-by-id-delete", "DELETE", "/api/v1/sim/{sim4}", 204)
    yield Step("bulk-sim-delete", "DELETE", "/api/v1/sim/multi", 204, body=[{"id": "{sim5}"}])
    yield Step("create-endpoint", "POST", "/api/v1/endpoint", 201, body={
        "name": "contract", "tags": "a,b", "status": {"id": 0}, "service_profile": {"id": "{sp}"},
        "tariff_profile": {"id": "{tp}"}, "sim": {"id": "{sim}", "activate": True},
        "imei": "3520990017614823"}, keep=_keep("endpoint"))  # fmt: skip
    yield Step("create-endpoint", "POST", "/api/v1/endpoint", 201, body={
        "status": {"id": 1}, "service_profile": {"id": "{sp}"}, "tariff_profile": {"id": "{tp}"},
    }, keep=_keep("spare"))  # fmt: skip
    yield Step("create-endpoint", "POST", "/api/v1/endpoint", 422, body={
        "status": {"id": 0}, "service_profile": {"id": "{sp}"}, "tariff_profile": {"id": "{tp}"},
        "colour": "red"})  # fmt: skip
    yield Step("get-endpoints", "GET", "/api/v1/endpoint", 200, params={"sort": "-name"})
    yield Step("endpoint-by-id-get", "GET", "/api/v1/endpoint/{endpoint}", 200)
    yield Step("endpoint-by-id-get", "GET", "/api/v1/endpoint/{spare}", 200)
    yield Step("endpoint-by-id-patch", "PATCH", "/api/v1/endpoint/{endpoint}", 204,
               body={"name": "renamed", "sim": {"id": "{sim}", "status": {"id": 2}}})
    yield Step("endpoint-by-id-patch", "PATCH", "/api/v1/endpoint/{endpoint}", 204,
               body={"sim": {"id": "{sim}", "status": {"id": 1}}})
    yield Step("endpoint-by-id-delete", "DELETE", "/api/v1/endpoint/{endpoint}", 409)
    yield Step("endpoint-by-id-delete", "DELETE", "/api/v1/endpoint/{spare}", 204)
    yield Step("endpoint-connectivity-by-id-get", "GET", "/api/v1/endpoint/{endpoint}/connectivity",
               200)
    yield Step("update-endpoint-connectivity-by-id", "PATCH",
               "/api/v1/endpoint/{endpoint}/connectivity", 204, body={"location": None})
    yield Step("get-connectivity-info-by-endpoint-id", "GET",
               "/api/v1/endpoint/{endpoint}/connectivity_info", 200)
    yield Step("endpoint-events-by-id", "GET", "/api/v1/endpoint/{endpoint}/event", 200)
    yield Step("sim-event-page-per-page-sort-by-sim-id-and-q-get", "GET",
               "/api/v1/sim/{sim}/event", 200, params={"sort": "-id"})
    yield Step("get-events", "GET", "/api/v1/event", 200, params={"per_page": 50})
    yield Step("get-events", "GET", "/api/v1/event", 422, params={"q": "imei:1"})
    yield Step("bulk-create-endpoint", "POST", "/api/v2/endpoint/multi", 201, body={
        "service_profile": {"id": "{sp}"}, "tariff_profile": {"id": "{tp}"}, "status": {"id": 0},
        "endpoints": [{"name": "bulk 1", "sim": {"id": "{sim3}"}}, {"name": "bulk 2"}],
    }, keep=lambda w, b: w.ids.update(bulk1=b[0]["id"], bulk2=b[1]["id"]))  # fmt: skip
    yield Step("bulk-create-endpoint", "POST", "/api/v2/endpoint/multi", 422, body={
        "service_profile": {"id": "{sp}"}, "tariff_profile": {"id": "{tp}"}, "status": {"id": 0},
        "endpoints": [{"name": "bad", "imei": "1"}]})  # fmt: skip
    yield Step("bulk-update-endpoint", "PATCH", "/api/v2/endpoint/multi", 204,
               body=[{"id": "{bulk1}", "tags": "bulk"}, {"id": "{bulk2}", "status": {"id": 1}}])
    yield Step("bulk-update-endpoint", "PATCH", "/api/v2/endpoint/multi", 404,
               body=[{"id": 987654321, "tags": "x"}])
    yield Step("bulk-delete-endpoint", "DELETE", "/api/v2/endpoint/multi", 204,
               body=[{"id": "{bulk1}"}, {"id": "{bulk2}"}])


QUOTA = {"status": {"id": 1}, "volume": 3, "expiry_date": "2099-01-01T00:00:00Z",
         "action_on_exhaustion": {"id": 1}, "threshold_percentage": 10}  # fmt: skip
EP = "/api/v1/endpoint/{endpoint}"
SP = "/api/v1/service_profile/{sp}"
TP_BLOCK = "/api/v2/tariff_profile/{tp}/operator_blocklist/operator"


def sms_steps(w: World) -> Iterator[Step]:
    """SMS, operator blacklists and blocklists, quotas and traffic limits."""
    yield Step("endpoint-sms-by-id-post", "POST", EP + "/sms", 201,
               body={"payload": "x", "source_address": "123"}, keep=_keep("sms"))
    yield Step("endpoint-sms-by-id-get", "GET", EP + "/sms", 200)
    yield Step("endpoint-sms-by-endpoint-id-and-sms-id-get", "GET", EP + "/sms/{sms}", 200)
    yield Step("endpoint-sms-by-endpoint-id-and-sms-id-delete", "DELETE", EP + "/sms/{sms}", 200)
    yield from _blacklist_steps()
    for kind in ("data", "sms"):
        yield Step(f"endpoint-quota-{kind}-by-endpoint-id-post", "POST", EP + f"/quota/{kind}",
                   201, body=QUOTA)
        yield Step(f"endpoint-quota-{kind}-by-endpoint-id-get", "GET", EP + f"/quota/{kind}", 200)
        yield Step(f"delete-endpoint-{kind}-quota-by-id", "DELETE", EP + f"/quota/{kind}", 204)
    yield Step("delete-quota-by-service-profile-id", "DELETE", SP + "/quota/sms", 204)
    yield from _service_steps()
    yield from _blocklist_steps()


def _blacklist_steps() -> Iterator[Step]:
    put = "endpoint-operator-blacklist-by-ep-id-and-operator-id-put"
    delete = "endpoint-operator-blacklist-by-ep-id-and-operator-id-delete"
    yield Step(put, "PUT", EP + "/operator_blacklist/4", 204)
    yield Step(put, "PUT", EP + "/operator_blacklist/4", 409)
    yield Step("endpoint-operator-blacklist-by-endpoint-id-get", "GET",
               EP + "/operator_blacklist", 200)
    yield Step(delete, "DELETE", EP + "/operator_blacklist/4", 204)
    yield Step(delete, "DELETE", EP + "/operator_blacklist/4", 404)


def _service_steps() -> Iterator[Step]:
    put = "service-profile-service-by-profile-and-service-put"
    yield Step(put, "PUT", SP + "/service/3", 204)
    yield Step(put, "PUT", SP + "/service/3", 409)
    yield Step("service-profile-service-by-profile-and-service-delete", "DELETE",
               SP + "/service/3", 204)
    yield Step("add-traffic-limit", "PUT", SP + "/service/1/traffic_limit/1", 200)
    yield Step("remove-traffic-limit", "DELETE", SP + "/service/1/traffic_limit/1", 200)
    yield Step("add-service-profile-traffic-limit", "POST", SP + "/traffic_limit", 201,
               body={"service": {"id": "38"}, "period": {"id": "2"}, "volume": 10**6},
               keep=_keep("limit"))
    yield Step("list-service-profile-traffic-limits", "GET", SP + "/traffic_limit", 200)
    yield Step("create-endpoint-traffic-limit-extension", "POST",
               EP + "/traffic_limit_extension", 201, body={"volume": 500})
    yield Step("get-endpoint-traffic-limit-extensions", "GET", EP + "/traffic_limit_extension",
               200)
    yield Step("delete-endpoint-traffic-limit-extensions", "DELETE",
               EP + "/traffic_limit_extension", 204)
    yield Step("delete-service-profile-traffic-limit", "DELETE", SP + "/traffic_limit/{limit}",
               204)
    yield Step("remove-service-profile-traffic-limits", "DELETE", SP + "/traffic_limit", 204)


def _blocklist_steps() -> Iterator[Step]:
    yield Step("tariff-profile-operator-block-operator-by-id-put", "PUT", TP_BLOCK + "/2", 204)
    yield Step("tariff-profile-operator-block-operator-by-id-rat-type-post", "POST",
               TP_BLOCK + "/2/rat_type", 204, body={"rat_types": [{"id": 6}]})
    yield Step("tariff-profile-operator-block-operator-by-id-get", "GET", TP_BLOCK + "/2", 200)
    yield Step("tariff-profile-operator-block-list-operator-get", "GET", TP_BLOCK, 200)
    yield Step("tariff-profile-operator-block-operator-by-id-rat-type-by-id-delete", "DELETE",
               TP_BLOCK + "/2/rat_type/6", 204)
    yield Step("tariff-profile-operator-block-operator-by-id-delete", "DELETE", TP_BLOCK + "/2",
               204)


def usage_steps(w: World) -> Iterator[Step]:
    """Statistics (after :func:`add_usage`)."""
    yield Step("endpoint-stats-by-id-get", "GET", "/api/v1/endpoint/{endpoint}/stats", 200)
    yield Step("endpoint-stats-daily-by-id-get", "GET", "/api/v1/endpoint/{endpoint}/stats/daily",
               200)
    yield Step("sim-stats-by-id-get", "GET", "/api/v1/sim/{sim}/stats", 200)
    yield Step("sim-statistics-daily-by-id-get", "GET", "/api/v1/sim/{sim}/stats/daily", 200)
    yield Step("get-organisation-monthly-stats", "GET", "/api/v1/organisation/my/stats", 200)
    yield Step("get-organisation-monthly-stats", "GET", "/api/v1/organisation/{org}/stats", 200)
    yield Step("get-organisation-daily-stats", "GET", "/api/v1/organisation/my/stats/daily", 200)
    yield Step("get-organisation-hourly-stats", "GET", "/api/v1/organisation/my/stats/hourly",
               200)
    yield Step("statistics-daily-by-id-get", "GET", "/api/v1/stats/daily", 200)


def tariff_steps(w: World) -> Iterator[Step]:
    tariff = w.get("/api/v1/tariff_profile/{}".format(w.ids["tp"]))["tariff"]
    zone = tariff["ratezone"][0]["id"]
    offers = w.get(f"/api/v1/tariff/{tariff['id']}/ratezone/{zone}/inclusive_volume")
    w.ids.update(tariff=tariff["id"], zone=zone, offer=offers[0]["id"])
    yield Step("tariff-profile-coverage-by-tp-id-get", "GET",
               "/api/v1/tariff_profile/{tp}/coverage", 200)
    yield Step("tariff-profile-ratezone-selection-by-tp-id-and-rz-id-delete", "DELETE",
               "/api/v1/tariff_profile/{tp}/ratezone_selection/{zone}", 204)
    yield Step("tariff-profile-ratezone-selection-by-tp-id-and-rz-id-put", "PUT",
               "/api/v1/tariff_profile/{tp}/ratezone_selection/{zone}", 204)
    yield Step("assign-ratezone-inclusive-volume", "PUT",
               "/api/v1/organisation/my/inclusive_volume/{offer}", 201,
               body={"pooled": False}, keep=_keep("volume"))
    yield Step("get-active-organisation-inclusive-volume", "GET",
               "/api/v1/organisation/my/inclusive_volume/active", 200)
    yield Step("tariff-profile-inclusive-volume-assignment", "PUT",
               "/api/v1/tariff_profile/{tp}/inclusive_volume/{volume}", 204)
    yield Step("tariff-profile-by-id-get", "GET", "/api/v1/tariff_profile/{tp}", 200)
    yield Step("tariff-profile-get", "GET", "/api/v1/tariff_profile", 200)
    yield Step("tariff-profile-inclusive-volume-assignment", "PUT",
               "/api/v1/tariff_profile/{tp}/inclusive_volume/{volume}", 409)
    yield Step("tariff-profile-inclusive-volume-remove-assignment", "DELETE",
               "/api/v1/tariff_profile/{tp}/inclusive_volume/{volume}", 204)
    yield Step("tariff-profile-inclusive-volume-remove-assignment", "DELETE",
               "/api/v1/tariff_profile/{tp}/inclusive_volume/{volume}", 400)
    yield Step("get-organisation-monthly-stats", "GET", "/api/v1/organisation/my/stats", 200)
    yield Step("update-organisation-tariff", "PATCH", "/api/v1/organisation/{org}/tariff", 200,
               body={"id": "{tariff}"})


def addressing_steps(w: World) -> Iterator[Step]:
    yield Step("ip-address-space-get", "GET", "/api/v1/ip_address_space", 200)
    yield Step("ip-address-space-available-by-ip-address-version-get", "GET",
               "/api/v1/ip_address_space/available", 200)
    yield Step("ip-address-space-post", "POST", "/api/v1/ip_address_space", 201,
               body={"ip_address_space": "{cidr}", "ip_address_version": 4}, keep=_keep("space"))
    yield Step("ip-address-space-by-id-delete", "DELETE", "/api/v1/ip_address_space/{space}", 204)
    yield Step("ip-address-space-by-id-put", "PUT", "/api/v1/ip_address_space/{space}", 204)
    yield Step("ip-address-space-post", "POST", "/api/v1/ip_address_space", 409,
               body={"ip_address_space": "{cidr}", "ip_address_version": 4})


def tenancy_steps(w: World) -> Iterator[Step]:
    yield Step("authenticate", "POST", "/api/v1/authenticate", 200, anonymous=True,
               body={"username": w.username, "password": PASSWORD})
    yield Step("authenticate", "POST", "/api/v1/authenticate", 401, anonymous=True,
               body={"username": w.username, "password": "wrong-password-1"})
    yield Step("application-token-post", "POST", "/api/v1/application_token", 200,
               body={"description": "contract"}, keep=_keep("token"))
    yield Step("application-token-get", "GET", "/api/v1/application_token", 200)
    yield Step("application-token-by-id-patch", "PATCH", "/api/v1/application_token/{token}", 204,
               body={"status": {"id": 1}})
    yield Step("user-role-get", "GET", "/api/v1/user/role", 200)
    yield Step("user-status-get", "GET", "/api/v1/user/status", 200)
    yield Step("user-per-page-sort-by-q-and-page-post", "POST", "/api/v1/user", 201,
               body={"username": "someone-{tag}@contract.example", "name": "Some One"},
               keep=lambda w, b: w.ids.update(user=b["id"]))
    yield Step("user-per-page-sort-by-q-and-page-get", "GET", "/api/v1/user", 200)
    yield Step("user-by-id-get", "GET", "/api/v1/user/{user}", 200)
    yield Step("user-by-id-patch", "PATCH", "/api/v1/user/{user}", 204, body={"name": "Another"})
    yield Step("user-by-id-delete", "DELETE", "/api/v1/user/{user}", 204)


def _keep_codes(world: World, body: Any) -> None:
    """The new MFA key, a code for activation now and one of the next window for the
    login (a code is single use: the same one is refused the second time)."""
    now, secret = time.time(), body["secret_key"]
    world.ids.update(mfa_key=body["id"], code=vault.code_at(secret, now),
                     code_next=vault.code_at(secret, now + vault.STEP_SECONDS))  # fmt: skip


def mfa_steps(w: World) -> Iterator[Step]:
    """Enrol, sign in with the code and a trusted device, then remove both (so later
    phases sign in with the password alone again)."""
    yield Step("user-by-id-get", "GET", "/api/v1/user/my", 200, keep=_keep("me"))
    yield Step("user-mfa-type-get", "GET", "/api/v1/user/mfa/type", 200)
    yield Step("user-mfa-status-get", "GET", "/api/v1/user/mfa/status", 200)
    yield Step("post-mfa", "POST", "/api/v1/user/mfa", 422,
               body={"type": {"id": 1}, "password": "wrong-password-1"})
    yield Step("post-mfa", "POST", "/api/v1/user/mfa", 200,
               body={"type": {"id": 1}, "password": PASSWORD}, keep=_keep_codes)
    yield Step("user-mfa-by-id-patch", "PATCH", "/api/v1/user/mfa/{mfa_key}", 422,
               body={"status": {"id": 1}, "code": "00000x"})
    yield Step("user-mfa-by-id-patch", "PATCH", "/api/v1/user/mfa/{mfa_key}", 204,
               body={"status": {"id": 1}, "code": "{code}"})
    yield Step("user-mfa-by-id-patch", "PATCH", "/api/v1/user/mfa/{mfa_key}", 409,
               body={"status": {"id": 1}, "code": "{code}"})
    yield Step("post-mfa", "POST", "/api/v1/user/mfa", 409,
               body={"type": {"id": 1}, "password": PASSWORD})
    yield Step("authenticate", "POST", "/api/v1/authenticate", 200, anonymous=True,
               body={"username": w.username, "password": PASSWORD},
               keep=_keep("mfa_token", "mfa_token"))
    yield Step("authenticate", "POST", "/api/v1/authenticate", 200, anonymous=True,
               body={"mfa_token": "{mfa_token}", "code": "{code_next}", "trusted_device": {
                   "fingerprint": "contract-device-fingerprint", "browser": "contract"}})
    yield Step("user-mfa-trusted-device-by-user-id-get", "GET",
               "/api/v1/user/{me}/mfa/trusted_device", 200, keep=_keep_first("device"))
    yield Step("user-mfa-trusted-device-by-user-id-and-device-id-delete", "DELETE",
               "/api/v1/user/{me}/mfa/trusted_device/{device}", 204)
    yield Step("user-mfa-by-user-id-and-key-id-delete", "DELETE",
               "/api/v1/user/{me}/mfa/{mfa_key}", 204)
    yield Step("user-mfa-by-user-id-and-key-id-delete", "DELETE",
               "/api/v1/user/{me}/mfa/{mfa_key}", 404)


def user_steps(w: World) -> Iterator[Step]:
    """Roles, permissions, a user's events, support tokens and SIM migration."""
    yield Step("user-per-page-sort-by-q-and-page-post", "POST", "/api/v1/user", 201,
               body={"username": "roles-{tag}@contract.example", "name": "Role Holder",
                     "roles": [{"id": 3}]}, keep=_keep("holder"))
    yield Step("user-role-by-id-and-role-id-put", "PUT", "/api/v1/user/{holder}/role/1", 204)
    yield Step("user-role-by-id-and-role-id-put", "PUT", "/api/v1/user/{holder}/role/2", 404)
    yield Step("user-role-by-id-and-role-id-delete", "DELETE", "/api/v1/user/{holder}/role/3",
               404)
    yield Step("user-role-by-id-and-role-id-delete", "DELETE", "/api/v1/user/{holder}/role/1",
               409)
    yield Step("user-role-permission-by-id-get", "GET", "/api/v1/user/{holder}/role/permission",
               200)
    yield Step("user-event-page-per-page-sort-by-user-id-and-q-get", "GET",
               "/api/v1/user/{holder}/event", 200)
    # Support tokens are for provider administrators; the contract tenant is not one.
    yield Step("user-by-id-v-2-create-support-token", "POST",
               "/api/v2/user/{holder}/support_token", 403, body={"role": "3"})
    # Migration needs a second organisation the caller administers: the errors are checked.
    yield Step("sim-migration-workspace", "POST", "/api/v1/sim/migration/workspace", 404,
               body={"target_workspace": {"id": 987654321}, "sims": [{"id": "{sim}"}]})
    yield Step("sim-migration-workspace", "POST", "/api/v1/sim/migration/workspace", 400,
               body={"target_workspace": {"id": "{org}"}, "iccids": ["123"]})


def cloud_connect_steps(w: World) -> Iterator[Step]:
    yield Step("get-cloud-connect-breakout-types", "GET", "/api/v1/cnc/breakout_type", 200)
    yield Step("get-cloud-connect-available-regions-by-breakout-type", "GET",
               "/api/v1/cnc/breakout_type/1/available_region", 200)
    yield Step("list-cloud-connect-custom-prices", "GET", "/api/v1/cnc/pricing", 200)
    yield Step("create-cloud-connect-attachment-tgw", "POST", "/api/v1/cnc/breakout/tgw", 201,
               body={"type": 1, "name": "contract", "vpc_cidr": ["{vpc_cidr}"],
                     "region": w.region, "aws_account_id": "{account}"},
               keep=_keep("breakout"))  # fmt: skip
    yield Step("create-cloud-connect-attachment-tgw", "POST", "/api/v1/cnc/breakout/tgw", 422,
               body={"type": 1, "name": "contract", "vpc_cidr": ["8.8.8.0/24"],
                     "region": w.region, "aws_account_id": "{account}"})  # fmt: skip
    yield Step("create-cloud-connect-attachment-vpn", "POST", "/api/v1/cnc/breakout/vpn", 201,
               body={"type": {"id": 2}, "name": "vpn", "region": w.region,
                     "public_ip": "81.2.71.{octet}", "on_prem_cidr": ["{vpn_cidr}"]},
               keep=_keep("vpn_breakout"))  # fmt: skip
    yield Step("create-cloud-connect-attachment-vpn", "POST", "/api/v1/cnc/breakout/vpn", 422,
               body={"type": {"id": 2}, "name": "vpn", "region": w.region,
                     "public_ip": "10.0.0.1", "on_prem_cidr": ["{vpn_cidr}"]})  # fmt: skip
    yield Step("get-cloud-connect-attachments", "GET", "/api/v1/cnc/breakout", 200)
    yield Step("get-cloud-connect-attachment-by-id", "GET", "/api/v1/cnc/breakout/{breakout}", 200)
    yield Step("retry-cloud-connect-attachment", "PATCH", "/api/v1/cnc/breakout/{breakout}", 409)
    yield Step("delete-cloud-connect-attachment", "DELETE", "/api/v1/cnc/breakout/{breakout}", 200)


def fill(value: Any, ids: dict[str, Any]) -> Any:
    """``"{sim}"`` -> the stored id (an int stays an int), recursively through bodies."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
            return ids[value[1:-1]]
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def stamp() -> str:
    return datetime.now().strftime("%H%M%S%f")
