"""A small client of linkplane's HTTP API, used the way an emnify client uses the API.

Not part of ``linkplane.api`` (the server's HTTP toolkit): the CLI and the demo are clients.

The CLI and ``linkplane demo`` talk to a running API through this: they authenticate with
``POST /api/v1/authenticate`` (user credentials or an application token) and send the bearer
token. Error bodies are translated once, here, back into the domain errors (with the field),
so the CLI prints the same one line the API would show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from linkplane import errors
from linkplane.context import read_runtime

_BY_STATUS: dict[int, type[errors.LinkplaneError]] = {
    400: errors.InvalidInput,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    409: errors.Conflict,
    422: errors.InvalidInput,
}


@dataclass(frozen=True)
class Credentials:
    """User credentials or an application token (the token wins when both are given)."""

    email: str | None = None
    password: str | None = None
    token: str | None = None

    def body(self) -> dict[str, str]:
        if self.token:
            return {"application_token": self.token}
        if self.email and self.password:
            return {"username": self.email, "password": self.password}
        missing = "password" if self.email else "email"
        raise errors.InvalidInput(
            "no credentials: pass --email and --password, or set LINKPLANE_EMAIL and "
            "LINKPLANE_PASSWORD, or LINKPLANE_TOKEN (an application token)",
            field=missing,
        )


def resolve_api_url(api_url: str | None, data_dir: Path) -> str:
    """``api_url`` if given, else the one ``linkplane up`` wrote into ``data_dir``."""
    if api_url:
        return api_url.rstrip("/")
    found = read_runtime(data_dir).get("api_url")
    if not isinstance(found, str):
        raise errors.InvalidInput(
            f"linkplane up is not running for {data_dir} (no runtime.json); "
            "pass --data-dir of a running `linkplane up` or --api-url",
            field="api-url",
        )
    return found.rstrip("/")


def error_from(response: httpx.Response) -> errors.LinkplaneError:
    """The domain error an API error body stands for; the first field error names the field."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or response.reason_phrase or "request failed")
    fields = body.get("errors") or []
    field = fields[0].get("field") if fields and isinstance(fields[0], dict) else None
    if fields and isinstance(fields[0], dict) and fields[0].get("message"):
        message = str(fields[0]["message"])
    cls = _BY_STATUS.get(response.status_code, errors.LinkplaneError)
    return cls(f"{message} (HTTP {response.status_code})", field=field)


class ApiClient:
    """Authenticated requests to one API; raise the domain error of any 4xx/5xx answer."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, timeout=timeout)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def authenticate(self, credentials: Credentials) -> None:
        body = self.request("POST", "/api/v1/authenticate", json=credentials.body())
        self._http.headers["Authorization"] = f"Bearer {body['auth_token']}"

    def use_token(self, auth_token: str) -> None:
        """Use an already issued auth token (no authenticate call)."""
        self._http.headers["Authorization"] = f"Bearer {auth_token}"

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise errors.LinkplaneError(
                f"cannot reach the API at {self.base_url}: {exc}; is `linkplane up` running?",
                field="api-url",
            ) from exc
        if response.status_code >= 400:
            raise error_from(response)
        return response

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        return response.json() if response.content else None

    def text(self, path: str, **kwargs: Any) -> str:
        """A GET of a plain-text resource (a VPN configuration)."""
        return self._send("GET", path, **kwargs).text
