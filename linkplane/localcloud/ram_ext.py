"""Teaches moto 5.2.5's RAM the cross-account sharing flow as AWS documents it.

Installed at runtime (no fork): new and replaced action methods on moto's
``ResourceAccessManagerResponse`` (``BaseResponse.call_action`` dispatches on method names)
and the missing routes in ``moto.ram.urls.url_paths`` (a server builds its routes from it on
the first request, in-process mocks on every request). The methods only parse the request
and render the result; the behaviour is in :mod:`ram_ops` and :mod:`ram_queries`, the state
in :mod:`ram_state`. The moto internals used here are pinned by tests/localcloud/test_contract.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from linkplane.localcloud import ram_ops, ram_queries

Operation = Callable[..., dict[str, Any]]

# Action method name (moto's snake_case of the AWS action) -> implementation.
ACTIONS: dict[str, Operation] = {
    "create_resource_share": ram_ops.create_resource_share,
    "associate_resource_share": ram_ops.associate_resource_share,
    "disassociate_resource_share": ram_ops.disassociate_resource_share,
    "delete_resource_share": ram_ops.delete_resource_share,
    "accept_resource_share_invitation": ram_ops.accept_resource_share_invitation,
    "reject_resource_share_invitation": ram_ops.reject_resource_share_invitation,
    "get_resource_share_invitations": ram_queries.get_resource_share_invitations,
    "get_resource_shares": ram_queries.get_resource_shares,
    "get_resource_share_associations": ram_queries.get_resource_share_associations,
    "list_resources": ram_queries.list_resources,
}

# Routes moto 5.2.5 lacks (request URIs of the botocore RAM model).
NEW_PATHS = (
    "{0}/acceptresourceshareinvitation$",
    "{0}/rejectresourceshareinvitation$",
    "{0}/getresourceshareinvitations$",
    "{0}/associateresourceshare$",
    "{0}/disassociateresourceshare$",
    "{0}/listresources$",
)


def request_params(response: Any) -> dict[str, Any]:
    """The JSON body; DeleteResourceShare sends its parameters in the query string instead."""
    try:
        body = json.loads(response.body or "{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    for key, values in response.querystring.items():
        if values and key not in body:
            body[key] = values[0]
    return body


def _method(name: str, operation: Operation) -> Callable[[Any], str]:
    def action(self: Any) -> str:
        params = request_params(self)
        result = operation(account_id=self.current_account, region=self.region, params=params)
        return json.dumps(result)

    action.__name__ = action.__qualname__ = name
    return action


def install() -> None:
    """Patch moto's RAM; idempotent (``install.install`` also guards it)."""
    from moto.ram import urls
    from moto.ram.responses import ResourceAccessManagerResponse

    for name, operation in ACTIONS.items():
        setattr(ResourceAccessManagerResponse, name, _method(name, operation))
    for path in NEW_PATHS:
        urls.url_paths.setdefault(path, ResourceAccessManagerResponse.dispatch)
