"""Contract with moto's internals: a moto upgrade must fail here, loudly, not in production.

The embedded cloud's RAM extension, throttling and server rely on moto 5.2.5 internals
(names, signatures, attributes, the RAM url_paths dict). Each is checked here; when this
test fails after an upgrade, re-read the listed moto code and adapt the extension. EC2
internals are checked in test_contract_ec2.py.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

PINNED = "5.2.5"


def params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def test_installed_moto_is_the_pinned_version() -> None:
    installed = version("moto")
    assert installed == PINNED, (
        f"moto {installed} is installed but the embedded cloud was written against {PINNED}: "
        "re-check every internal listed in tests/localcloud/test_contract*.py before bumping"
    )
    pyproject = tomllib.loads(Path("pyproject.toml").read_text())
    pins = [d for d in pyproject["project"]["dependencies"] if d.startswith("moto")]
    assert pins and all(d.endswith(f"=={PINNED}") for d in pins), pins


def test_ram_backend_state_shape() -> None:
    from moto.core.base_backend import BackendDict
    from moto.ram.models import ResourceAccessManagerBackend, ResourceShare, ram_backends

    assert isinstance(ram_backends, BackendDict)
    backend = ResourceAccessManagerBackend("eu-central-1", "111111111111")
    assert backend.resource_shares == []
    assert (backend.account_id, backend.region_name) == ("111111111111", "eu-central-1")
    assert params(ResourceShare.__init__) == ["self", "account_id", "region", "kwargs"]
    share = ResourceShare("111111111111", "eu-central-1", name="n", allowExternalPrincipals=False)
    for attribute in (
        "arn",
        "name",
        "status",
        "principals",
        "resource_arns",
        "partition",
        "allow_external_principals",
        "creation_time",
        "last_updated_time",
    ):
        assert hasattr(share, attribute), attribute
    assert share.allow_external_principals is False
    assert share.status == "ACTIVE"
    assert params(ResourceShare.add_principals) == ["self", "principals"]
    assert params(ResourceShare.add_resources) == ["self", "resource_arns"]
    assert params(ResourceShare.delete) == ["self"]
    share.delete()
    assert share.status == "DELETED"
    assert set(share.describe()) >= {"resourceShareArn", "name", "status", "featureSet"}


def test_ram_validation_raises_before_appending() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.ram.models import ResourceShare

    share = ResourceShare("111111111111", "eu-central-1", name="n")
    with pytest.raises(JsonRESTError):
        share.add_principals(["222222222222", "not a principal"])
    with pytest.raises(JsonRESTError):
        share.add_resources(["arn:aws:ec2:eu-central-1:111111111111:volume/vol-1"])
    assert share.principals == [] and share.resource_arns == []


def test_ram_routes_and_dispatch() -> None:
    from moto.ram import urls
    from moto.ram.responses import ResourceAccessManagerResponse

    assert isinstance(urls.url_paths, dict)
    assert "{0}/createresourceshare$" in urls.url_paths
    assert urls.url_bases == [r"https?://ram\.(.+)\.amazonaws.com"]
    response = ResourceAccessManagerResponse()
    assert response.service_name == "ram"
    assert hasattr(ResourceAccessManagerResponse, "dispatch")
    # Set per request in BaseResponse.setup_class; the extension reads them.
    setup = inspect.getsource(ResourceAccessManagerResponse.setup_class)
    for attribute in ("current_account", "region", "body", "querystring"):
        assert f"self.{attribute} =" in setup, attribute


def test_call_action_dispatches_on_method_names() -> None:
    from moto.core import responses
    from moto.core.utils import camelcase_to_underscores, method_names_from_class

    source = inspect.getsource(responses.BaseResponse)
    assert "def call_action(self) -> TYPE_RESPONSE:" in source
    assert "method_names = method_names_from_class(self.__class__)" in source
    assert "action = camelcase_to_underscores(self._get_action())" in source
    assert camelcase_to_underscores("AcceptResourceShareInvitation") == (
        "accept_resource_share_invitation"
    )

    class Probe:
        def added(self) -> None: ...

    assert "added" in method_names_from_class(Probe)
    for attribute in ("_get_action", "call_action", "setup_class"):
        assert hasattr(responses.BaseResponse, attribute), attribute


def test_json_errors_render_as_botocore_expects() -> None:
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError("SomeException", "message")
    assert error.code == 400
    assert error.description == '{"__type": "SomeException", "message": "message"}'


def test_server_pieces() -> None:
    from moto.moto_server import werkzeug_app

    assert params(werkzeug_app.DomainDispatcherApplication.__init__)[:2] == [
        "self",
        "create_app",
    ]
    assert callable(werkzeug_app.create_backend_app)
    assert issubclass(werkzeug_app.MotoRequestHandler, object)
    from werkzeug.serving import make_server

    assert {"threaded", "request_handler", "fd"} <= set(params(make_server))


def test_backend_dict_iteration_does_not_create_backends() -> None:
    from moto.core.base_backend import AccountSpecificBackend, BackendDict

    assert issubclass(BackendDict, dict) and issubclass(AccountSpecificBackend, dict)
    assert re.search(r"def reset\(cls\)", inspect.getsource(BackendDict))
