"""pytest plugin: record every AWS action the provider's adapter sends, per test.

Loaded with ``-p tests.aws_recorder`` and ``LINKPLANE_TEST_RECORD_AWS_ACTIONS=FILE``: each
client :class:`~linkplane.cloud.aws.AwsCloud` creates gets a botocore ``before-call`` hook
that notes ``service:Operation`` (the IAM action) under the running test's node id; FILE
receives ``{node id: [actions]}`` as JSON at the end. Customer-side calls (the tests acting
as customer accounts with plain boto3) are not the provider's and are not recorded.
"""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from linkplane.cloud.aws import AwsCloud

RECORD_ENV = "LINKPLANE_TEST_RECORD_AWS_ACTIONS"

_calls: dict[str, set[str]] = defaultdict(set)
_lock = threading.Lock()
_current = {"test": "(collection)"}


#: Recorded besides ``svc:Action`` as ``tagged@svc:Action`` when the call tags what it
#: creates (EC2 TagSpecifications, RAM tags): IAM then sees ``aws:RequestTag/...`` keys, and
#: EC2 authorises the tags as ``ec2:CreateTags`` with ``ec2:CreateAction`` = Action.
TAGGED = "tagged@"


def _tagged(body: Any) -> bool:
    if isinstance(body, dict):  # EC2: query parameters
        # CreateVpc spells it TagSpecification.N, the TGW calls TagSpecifications.N.
        return any(str(key).startswith("TagSpecification") for key in body)
    if isinstance(body, bytes):  # RAM: a JSON document
        return bool(json.loads(body or b"{}").get("tags"))
    return False


#: Services whose IAM prefix is not botocore's signing name.
_IAM_PREFIX = {"monitoring": "cloudwatch"}


def _hook(model: Any, params: Any = None, **_kwargs: Any) -> None:
    signing = model.service_model.signing_name
    action = f"{_IAM_PREFIX.get(signing, signing)}:{model.name}"
    actions = {action}
    if isinstance(params, dict) and _tagged(params.get("body")):
        actions.add(TAGGED + action)
    with _lock:
        _calls[_current["test"]].update(actions)


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get(RECORD_ENV):
        return
    original = AwsCloud._client

    def recording_client(self: AwsCloud, service: str) -> Any:
        client = original(self, service)
        client.meta.events.register("before-call", _hook)
        return client

    AwsCloud._client = recording_client  # type: ignore[method-assign]


def pytest_runtest_setup(item: pytest.Item) -> None:
    _current["test"] = item.nodeid


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get(RECORD_ENV)
    if path:
        with _lock:
            data = {test: sorted(actions) for test, actions in sorted(_calls.items())}
        Path(path).write_text(json.dumps(data, indent=1))
