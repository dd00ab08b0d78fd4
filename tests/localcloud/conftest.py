"""The embedded cloud, in-process and over HTTP: every localcloud test runs in both modes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from linkplane.localcloud import server
from linkplane.localcloud.accounts import session_for
from linkplane.localcloud.install import install

PROVIDER = "111111111111"
CUSTOMER = "222222222222"
OTHER = "333333333333"
REGION = "eu-central-1"


@dataclass
class Cloud:
    """Clients for any account; ``endpoint_url`` is None in-process."""

    mode: str
    endpoint_url: str | None
    _sessions: dict[tuple[str, str], boto3.Session] = field(default_factory=dict)

    def session(self, account_id: str, region: str = REGION) -> boto3.Session:
        """One assumed-role session per account and region for the test's lifetime."""
        key = (account_id, region)
        if key not in self._sessions:
            self._sessions[key] = session_for(
                account_id, region=region, endpoint_url=self.endpoint_url
            )
        return self._sessions[key]

    def client(self, service: str, account_id: str, region: str = REGION, **kwargs: Any) -> Any:
        """A client of ``service`` as ``account_id``; ``kwargs`` go to ``session.client``."""
        session: Any = self.session(account_id, region)  # Any: service is a runtime name
        return session.client(service, endpoint_url=self.endpoint_url, **kwargs)


@pytest.fixture(scope="session")
def _http_cloud() -> Iterator[str]:
    running = server.start()
    yield running.endpoint_url
    running.stop()


def _reset() -> None:
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.ec2.models import ec2_backends
    from moto.ram.models import ram_backends
    from moto.sts.models import sts_backends

    for backends in (ec2_backends, ram_backends, sts_backends, cloudwatch_backends):
        backends.reset()


@pytest.fixture(autouse=True)
def _default_knobs() -> Iterator[None]:
    """Every test ends with AWS defaults: real clock, 7-day invitations, no throttling."""
    from linkplane.localcloud import ram_state, throttle

    yield
    ram_state.set_clock(None)
    ram_state.set_invitation_ttl(None)
    throttle.reset()


@pytest.fixture(params=["inproc", "http"])
def cloud(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    install()
    if request.param == "inproc":
        from moto import mock_aws

        with mock_aws():
            yield Cloud("inproc", None)
    else:
        endpoint: str = request.getfixturevalue("_http_cloud")
        _reset()
        yield Cloud("http", endpoint)
        _reset()


CloudFactory = Callable[[str], Any]
