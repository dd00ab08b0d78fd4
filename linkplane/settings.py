"""The one typed settings object.

Each process's composition root (:mod:`linkplane.process`) builds one from the environment
(``LINKPLANE_*``) and passes it on; nothing imports a module-level instance, so tests and
commands build their own with overrides.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# ASCII digits only, no trailing newline: ``\d`` also matches full-width digits
# (U+FF10-U+FF19), and ``$`` accepts a final "\n".
ACCOUNT_ID_RE = re.compile(r"^[0-9]{12}\Z")
#: Installation ids go into AWS names, tags and client tokens: short, lowercase, no separator.
INSTALLATION_ID_RE = re.compile(r"^[a-z0-9]{4,16}$")

#: Regions linkplane knows. Bootstrapping any other name is refused with this list.
KNOWN_REGIONS: tuple[str, ...] = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "ca-central-1", "sa-east-1",
    "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-north-1", "eu-south-1", "eu-south-2",
    "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ap-east-1",
    "me-south-1", "af-south-1",
)  # fmt: skip


def default_data_dir() -> Path:
    """``~/.local/share/linkplane``"""
    return Path.home() / ".local" / "share" / "linkplane"


class Settings(BaseSettings):
    """Everything configurable, from ``LINKPLANE_*`` environment variables or arguments."""

    model_config = SettingsConfigDict(env_prefix="LINKPLANE_", extra="ignore")

    #: Where SQLite databases, the generated JWT key and ``up``'s runtime file live.
    data_dir: Path = Field(default_factory=default_data_dir)
    #: SQLAlchemy URL of the application database; empty means SQLite in ``data_dir``.
    database_url: str = ""
    #: Which cloud the provider account lives in. ``aws``: the standard boto3 credential chain
    #: (environment, profile, instance role; or the two keys below). ``embedded``: the
    #: embedded cloud at ``aws_endpoint_url`` (``linkplane up``, ``linkplane cloud serve``),
    #: acting as ``provider_account_id`` by STS assume-role with its dummy keys.
    cloud: Literal["aws", "embedded"] = "aws"
    #: AWS endpoint override; empty means AWS's own endpoints. With ``cloud=aws`` it only
    #: redirects the calls (a VPC endpoint, a proxy); credentials still come from the chain.
    aws_endpoint_url: str = ""
    #: Static AWS credentials, used only when both are set; empty means the standard boto3
    #: chain (environment, profile, instance or task role), which production should use.
    aws_access_key_id: str = ""
    #: The secret half of the static credentials above.
    aws_secret_access_key: str = Field(default="", repr=False)
    #: The provider account that owns the Transit Gateways.
    provider_account_id: str = "123456789012"
    #: This installation's id in AWS names and tags (see linkplane.installation); empty means
    #: the one generated once and stored in the database. Set it only to keep an id across a
    #: new database, or to give a copied database (which copies the id) an id of its own.
    installation_id: str = ""
    #: Region of commands and breakouts that name none.
    default_region: str = "eu-central-1"
    #: Device address space routed from the core to customers (the TGW "customers" table).
    device_cidr: str = "100.64.0.0/10"
    #: Each core region's own device address pool, a part of ``device_cidr``, as a JSON map,
    #: e.g. LINKPLANE_REGION_DEVICE_POOLS='{"eu-central-1": "100.64.0.0/12",
    #: "us-east-1": "100.80.0.0/12"}'. Routing tells by it where a device breaks out, so pools
    #: may not overlap. A region not in the map uses all of ``device_cidr`` (one region only).
    region_device_pools: dict[str, str] = Field(default_factory=dict)
    #: Core VPC CIDR used when bootstrap creates the core VPC.
    core_vpc_cidr: str = "10.255.0.0/16"
    #: Breakout validation limits: VPC CIDRs per breakout.
    max_cidrs_per_breakout: int = 10
    #: Breakout validation limits: the largest customer CIDR allowed (a /16 by default).
    min_prefix_length: int = 16
    #: RAM invitation lifetime; AWS uses 7 days.
    invitation_ttl_seconds: int = 7 * 24 * 3600
    #: Breakout workflows (linkplane.attachments; see docs/cloud-connect.md).
    #: How long the customer has to create its TGW attachment once the invitation is accepted.
    attachment_wait_seconds: float = 7 * 24 * 3600
    #: Polling of invitation/attachment state: first interval, doubled up to the maximum.
    breakout_poll_initial_seconds: float = 1.0
    #: The longest interval that polling backs off to.
    breakout_poll_max_seconds: float = 300.0
    #: One shared read per region (all invitations, all pending attachments) that wakes the
    #: breakouts whose customer acted; 0 turns it off and leaves only each breakout's polling.
    breakout_watch_interval_seconds: float = 5.0
    #: With the shared watch on, the longest interval a waiting breakout's own (fallback) poll
    #: backs off to: the watch notices a customer's action within an interval and wakes the
    #: breakout again while it waits, so own polls only cover a watch that stopped. At 10,000
    #: waiting breakouts 1,800 s is ~5.6 reads/s (300 s would be 33/s, over the RAM read budget).
    breakout_watched_poll_max_seconds: float = Field(default=1800.0, gt=0)
    #: How often the tunnel watch reads every VPN tunnel's state (one DescribeVpnConnections
    #: per region) and records a change as an event on its breakout; 0 turns it off.
    vpn_tunnel_watch_seconds: float = 30.0
    #: How often the tunnel watch reads the last hour's AWS/VPN metrics (bytes in and out;
    #: one GetMetricData per region and 150 tunnels) that GET /breakout/{id} shows.
    vpn_metrics_seconds: float = 300.0
    #: How long a workflow process reuses one region's AWS adapter (session, clients).
    cloud_adapter_ttl_seconds: float = 900.0
    #: Waiting for an accepted attachment / association to become available.
    breakout_activation_timeout_seconds: float = 900.0
    #: Retries of a workflow's database step (a lock or connection that failed transiently).
    #: AWS calls retry in the adapter with the ``aws_*`` policy below; steps do not again.
    breakout_step_max_attempts: int = 6
    #: The first wait between those retries (doubled each time).
    breakout_step_retry_seconds: float = 1.0
    #: Sweep: customer-deleted attachments, unexpected attachments, repairs (cron seconds).
    breakout_sweep_interval_seconds: int = 30
    #: A Deactivated breakout whose cleanup failed is retried by the sweep this often.
    breakout_cleanup_retry_seconds: float = 600.0
    #: Routes allowed per TGW (AWS default quota; raise it when AWS raised yours).
    tgw_route_quota: int = 10_000
    #: DBOS: empty system database URL means ``dbos.sqlite`` in ``data_dir`` (or the
    #: PostgreSQL ``database_url``). The version is pinned so a deploy keeps waiting workflows.
    dbos_system_database_url: str = ""
    #: DBOS application version: workers recover only workflows recorded under theirs, so
    #: keep it across deploys unless workflow code changed incompatibly (docs/deploy.md).
    dbos_application_version: str = "linkplane-1"
    #: Empty means ``<hostname>-<pid>``; a dead executor's workflows are recovered by others.
    dbos_executor_id: str = ""
    #: How often DBOS polls for messages on a SQLite system database (PostgreSQL notifies):
    #: the delay of a wake-up or deletion message; 0.05 s cost ~20% of the engine's CPU with
    #: 1,000 breakouts waiting.
    dbos_polling_interval_seconds: float = 0.2
    #: How often each workflow executor records that it is alive.
    executor_heartbeat_seconds: float = 5.0
    #: An executor silent this long is dead: live ones take over its workflows.
    executor_dead_after_seconds: float = 60.0
    #: How often each worker looks for new workflow starts on the queue (``serve`` and the
    #: API of ``up`` enqueue them).
    workflow_queue_polling_seconds: float = Field(default=0.5, gt=0)
    #: Workflow starts of a worker runtime (``up``'s API, the engine's own) are handed to a
    #: thread instead of waited for; a start lost with the process is made by the sweep.
    workflow_starts_in_background: bool = True
    #: Log lines as JSON (one object per line; production) instead of for a terminal.
    log_json: bool = False
    #: The lowest level of log lines written.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: How long ``/ready`` reuses the result of each check (database, DBOS, AWS), so frequent
    #: probes cost one cheap AWS request per process every few seconds.
    ready_cache_seconds: float = Field(default=5.0, ge=0)
    #: Throttling in the embedded cloud (off by default, as AWS documents it when on).
    cloud_throttling: bool = False
    #: Multiplies EC2's documented API buckets (mutating 50 + 5/s, reads 100 + 20/s) that
    #: linkplane's client-side budget keeps to: raise it when AWS raised your account's limits.
    aws_rate_scale: float = Field(default=1.0, gt=0)
    #: The AWS rate budget shared through PostgreSQL (linkplane.cloud.budget): the most
    #: tokens one process reserves per round trip.
    aws_budget_batch_max: int = Field(default=8, ge=1, le=50)
    #: A reserved token unspent this long after it became usable is given back.
    aws_budget_hold_seconds: float = Field(default=0.25, gt=0, le=2)
    #: The retry policy of AWS calls (full-jitter exponential backoff on retryable errors):
    #: attempts of one call on retryable errors (throttling, 5xx).
    aws_max_attempts: int = 8
    #: Full-jitter backoff: the first retry waits up to this long, doubling each time...
    aws_backoff_base_seconds: float = 0.2
    #: ...up to this ceiling.
    aws_backoff_cap_seconds: float = 20.0
    #: HS256 key signing auth tokens; empty means generated once and kept in ``data_dir``
    #: (set it explicitly when several hosts serve the API).
    jwt_secret: str = Field(default="", repr=False)
    #: Comma-separated addresses or CIDRs of reverse proxies whose ``X-Forwarded-For`` and
    #: ``X-Forwarded-Proto`` are believed (e.g. ``10.0.0.5,10.1.0.0/16``). Empty: forwarded
    #: headers are ignored and the client is the TCP peer, so nobody can pick the address an
    #: IP-bound application token checks. Never ``*`` unless only the proxy can reach linkplane.
    trusted_proxies: str = ""
    #: Sign-in attempts (``POST /authenticate``, the portal's sign-in) allowed per client
    #: address and minute, per serving process; more answer 429 with ``Retry-After``.
    auth_attempts_per_minute: int = Field(default=30, ge=1, le=100_000)
    #: Lifetime of an ``auth_token`` (a JWT); status is re-checked on every request anyway.
    auth_token_ttl_seconds: int = Field(default=3600, ge=60, le=24 * 3600)
    #: Lifetime of a refresh token (a new ``auth_token`` without the password).
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=300)
    #: How long an ``mfa_token`` (password checked, one-time code still owed) stays usable.
    mfa_token_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    #: Days a device registered with ``trusted_device`` at sign-in skips the MFA code
    #: (emnify: 90).
    mfa_trusted_device_days: int = Field(default=90, ge=1, le=365)
    #: Lifetime of a support token (a provider administrator's read-only access to a user's
    #: organisation, see docs/api-compat.md); revocable earlier like any application token.
    support_token_ttl_seconds: int = Field(default=3600, ge=300, le=7 * 24 * 3600)
    #: The ``demo`` organisation's admin created on first start; generated when empty.
    demo_email: str = ""
    #: That admin's password; generated (and printed once by ``up``) when empty.
    demo_password: str = Field(default="", repr=False)
    #: Request bodies above this size get 413 before any handler runs.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    #: Requests one API process runs at once (liveness, readiness and metrics excepted).
    #: Each holds a database connection until it answers, and the API's connection pool is
    #: sized from this, so an admitted request never waits for a connection.
    http_max_concurrent_requests: int = Field(default=16, ge=1, le=256)
    #: Of those, how many one client (one credential, else one address) may hold, so that
    #: one tenant's burst leaves room for the others.
    http_max_concurrent_per_client: int = Field(default=8, ge=1, le=256)
    #: How long a request beyond that limit waits for a free slot before it is answered
    #: 503 with ``Retry-After`` (a burst is refused quickly instead of timing out).
    http_admission_wait_seconds: float = Field(default=5.0, ge=0, le=60)
    #: The ``Retry-After`` (seconds) of that 503.
    http_retry_after_seconds: int = Field(default=2, ge=1, le=300)
    #: Database connections of a process's background work (workflow steps, heartbeat,
    #: watch, sweep, core policy, callbacks, reconciler), a pool apart from the API's so
    #: that neither can starve the other.
    background_pool_size: int = Field(default=10, ge=2, le=200)
    #: Isolation (linkplane.isolation): network namespace of the core gateway whose nftables
    #: policy ``apply`` loads ("" = write the file only; the lab's namespace when it is up).
    core_gateway_netns: str = ""
    #: Seconds between snapshots of the embedded cloud's state into the data dir by
    #: ``linkplane up`` (also written at shutdown, loaded at start: TGWs, shares, invitations
    #: and attachments survive a restart). 0 keeps the embedded cloud in memory only.
    cloud_snapshot_seconds: float = Field(default=15.0, ge=0)
    #: Seconds the embedded cloud keeps listing deleted TGW attachments and RAM shares
    #: (AWS: "about two hours"), after which it frees them with their invitations and client
    #: tokens; read by the cloud from this variable (a soak benchmark shortens it).
    cloud_retention_seconds: float = Field(default=7200.0, gt=0)
    #: Seconds between reconciliation passes in ``linkplane up`` (policy + audit --repair);
    #: 0 switches the reconciler off.
    reconcile_interval_seconds: float = Field(default=0.0, ge=0.0)
    #: SMS (linkplane.sms): how long an MT SMS waits for its device unless it says otherwise.
    sms_validity_seconds: int = Field(default=24 * 3600, ge=60)
    #: API callbacks (linkplane.callbacks): addresses a callback URL may reach although they
    #: are not public (comma-separated CIDRs, e.g. "127.0.0.1/32" for a local receiver).
    #: Empty: public addresses only (see docs/api-compat.md, "API callbacks").
    callback_allowed_cidrs: str = ""
    #: Seconds one delivery attempt may take (connect and answer) before it counts as failed.
    callback_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    #: Attempts per delivery; waits between them double from the base up to the cap.
    callback_max_attempts: int = Field(default=10, ge=1, le=100)
    #: The first wait between two attempts of one delivery.
    callback_backoff_base_seconds: float = Field(default=10.0, gt=0)
    #: The longest wait between two attempts of one delivery.
    callback_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    #: How often an idle callback worker looks for due deliveries.
    callback_poll_seconds: float = Field(default=1.0, gt=0)

    @field_validator("callback_allowed_cidrs")
    @classmethod
    def _cidrs(cls, value: str) -> str:
        from linkplane.callbacks.urls import parse_allowed

        parse_allowed(value)  # a ValueError names the bad entry
        return value

    #: Cloud Connect prices (``GET /api/v1/cnc/pricing``): the provider's monthly price per
    #: breakout type id, e.g. LINKPLANE_CNC_MONTHLY_PRICES='{"1": 99.0, "2": 149.0}', in
    #: the currency with emnify id ``cnc_price_currency_id`` (1 EUR, 2 USD).
    cnc_monthly_prices: dict[int, float] = Field(default_factory=lambda: {1: 99.0})
    #: The emnify currency id of those prices (1 EUR, 2 USD).
    cnc_price_currency_id: int = Field(default=1, ge=1, le=2)
    #: AWS list prices behind each breakout's own cost so far (us-east-2 by default): a TGW
    #: attachment-hour in USD.
    aws_tgw_attachment_hour_usd: float = Field(default=0.05, ge=0)
    #: AWS list price of a GB through the TGW, in USD.
    aws_tgw_data_gb_usd: float = Field(default=0.02, ge=0)
    #: AWS list price of a Site-to-Site VPN connection-hour, in USD.
    aws_vpn_connection_hour_usd: float = Field(default=0.05, ge=0)

    @field_validator("cnc_monthly_prices")
    @classmethod
    def _prices(cls, value: dict[int, float]) -> dict[int, float]:
        for type_id, amount in value.items():
            if not 1 <= type_id <= 8 or amount < 0:
                raise ValueError(
                    "cnc_monthly_prices maps breakout type ids 1-8 to amounts of 0 or more"
                )
        return value

    @model_validator(mode="after")
    def _pools(self) -> Settings:
        from linkplane.network.pools import check_pools

        check_pools(self.region_device_pools, self.device_cidr, KNOWN_REGIONS)
        return self

    def device_pool(self, region: str) -> str:
        """The device address pool of core ``region`` (all of ``device_cidr`` if unset)."""
        return self.region_device_pools.get(region, self.device_cidr)

    @field_validator("provider_account_id")
    @classmethod
    def _account(cls, value: str) -> str:
        if not ACCOUNT_ID_RE.match(value):
            raise ValueError("provider_account_id must be 12 digits")
        return value

    @field_validator("installation_id")
    @classmethod
    def _installation(cls, value: str) -> str:
        if value and not INSTALLATION_ID_RE.match(value):
            raise ValueError("installation_id must be 4-16 lowercase letters or digits")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        import ipaddress

        entries = [e.strip() for e in value.split(",") if e.strip()]
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {entry!r} is not an IP address or CIDR; give a "
                    "comma-separated list such as 10.0.0.5,10.1.0.0/16"
                ) from None
        return ",".join(entries)

    @field_validator("jwt_secret")
    @classmethod
    def _jwt_secret(cls, value: str) -> str:
        from linkplane.tenancy.security import check_secret_strength

        return check_secret_strength(value) if value else value

    @model_validator(mode="after")
    def _embedded_needs_endpoint(self) -> Settings:
        if self.cloud == "embedded" and not self.aws_endpoint_url:
            raise ValueError(
                "cloud=embedded needs aws_endpoint_url: set LINKPLANE_AWS_ENDPOINT_URL to the "
                "embedded cloud's address (see `linkplane cloud serve`), or LINKPLANE_CLOUD=aws"
            )
        return self

    def signing_key(self) -> str:
        """The installation's signing key: ``jwt_secret``, else the one persisted in the data
        directory (created on first use). It signs tokens and seals secrets at rest."""
        from linkplane.tenancy.security import signing_key

        return signing_key(jwt_secret=self.jwt_secret, data_dir=self.data_dir)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'linkplane.db'}"

    @property
    def on_postgres(self) -> bool:
        return self.effective_database_url.startswith("postgresql")
