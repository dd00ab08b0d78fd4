"""The embedded cloud's snapshot file: written atomically and privately, refused (and kept
aside) when another version wrote it, and not rewritten for read-only traffic."""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path
from typing import Any

from linkplane.localcloud import snapshot


def test_write_is_private_and_replaces_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / snapshot.FILE_NAME
    snapshot.write(path, b"first")
    snapshot.write(path, b"second")
    assert path.stat().st_mode & 0o777 == 0o600
    assert gzip.decompress(path.read_bytes()) == b"second"
    assert [p.name for p in tmp_path.iterdir()] == [snapshot.FILE_NAME]  # no temporary left


def test_a_snapshot_of_another_version_is_kept_aside_and_the_reason_given(tmp_path: Path) -> None:
    path = tmp_path / snapshot.FILE_NAME
    old = {**snapshot.header(), "moto": "4.0.0"}
    snapshot.write(path, pickle.dumps({"header": old, "state": {}}))

    loaded = snapshot.load(path)
    assert loaded.existed and loaded.restored == 0
    assert "another version" in loaded.reset_reason and "4.0.0" in loaded.reset_reason
    assert not path.exists() and path.with_name(path.name + ".rejected").exists()


def test_an_unreadable_snapshot_resets_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / snapshot.FILE_NAME
    path.write_bytes(b"not gzip at all")
    loaded = snapshot.load(path)
    assert "could not be read" in loaded.reset_reason
    assert snapshot.load(path) == snapshot.Loaded()  # set aside: the next start is clean


def _environ(body: bytes = b"", path: str = "/", query: str = "") -> dict[str, Any]:
    return {"CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
            "PATH_INFO": path, "QUERY_STRING": query}  # fmt: skip


def test_only_requests_that_may_change_state_count_as_changes() -> None:
    def changes(environ: dict[str, Any]) -> int:
        gate = snapshot.Gate()
        seen: list[bytes] = []

        def app(env: dict[str, Any], start: Any) -> list[bytes]:
            seen.append(env["wsgi.input"].read())  # moto still gets the whole body
            return [b"ok"]

        assert gate.wrap(app)(environ, lambda *a: None) == [b"ok"]
        assert seen == [environ["wsgi.input"].getvalue()]
        return gate.changes

    assert changes(_environ(b"Action=DescribeTransitGateways&Version=2016-11-15")) == 0
    assert changes(_environ(b"Action=CreateTransitGateway&Version=2016-11-15")) == 1
    assert changes(_environ(b"Action=AssumeRole&RoleArn=x")) == 1  # new keys: state
    assert changes(_environ(b"{}", path="/getresourceshareinvitations")) == 0
    assert changes(_environ(b"{}", path="/acceptresourceshareinvitation")) == 1
