"""Parsing the mobile core's usage CSV (columns iccid or endpoint_id, date, bytes_tx, bytes_rx,
and optionally hour: the UTC hour 0-23, for the hourly statistics).

Every bad line is reported in one error and a file with any bad line stores nothing, as
``linkplane sims import`` does. Whether each endpoint or ICCID exists is the service's check.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from linkplane.errors import InvalidInput
from linkplane.usage.service import MAX_REPORTED, UsageIn

VOLUMES = ("bytes_tx", "bytes_rx")


def _header(reader: csv.DictReader[str]) -> list[str]:
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("date", *VOLUMES) if c not in header]
    if "iccid" not in header and "endpoint_id" not in header:
        missing.insert(0, "iccid or endpoint_id")
    if missing:
        raise InvalidInput(f"line 1: missing column(s) {', '.join(missing)}", field="file")
    return header


def _int(value: str, name: str, errors: list[str]) -> int:
    if value.isascii() and value.isdigit():  # '²' is a digit to isdigit(), not to int()
        return int(value)
    errors.append(f"{name} {value!r} must be a whole number of bytes (0 or more)")
    return 0


def _day(value: str, errors: list[str]) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"date {value!r} must be YYYY-MM-DD")
        return date.min


def _row(values: dict[str, str], line: int, errors: list[str]) -> UsageIn:
    iccid, endpoint = values.get("iccid", ""), values.get("endpoint_id", "")
    if bool(iccid) == bool(endpoint):
        errors.append("give exactly one of iccid and endpoint_id")
    elif iccid and not (iccid.isascii() and iccid.isdigit() and len(iccid) in (19, 20)):
        errors.append(f"iccid {iccid!r} must be 19 or 20 digits")
    endpoint_id = _int(endpoint, "endpoint_id", errors) if endpoint else None
    hour = values.get("hour", "")
    return UsageIn(
        day=_day(values["date"], errors), line=line,
        bytes_tx=_int(values["bytes_tx"], "bytes_tx", errors),
        bytes_rx=_int(values["bytes_rx"], "bytes_rx", errors),
        endpoint_id=endpoint_id, iccid=iccid or None,
        hour=_int(hour, "hour", errors) if hour else None,
    )  # fmt: skip


def parse(text: str) -> list[UsageIn]:
    """The records of the CSV, or InvalidInput listing every bad line (nothing half-read)."""
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = _header(reader)
    rows: list[UsageIn] = []
    problems: list[str] = []
    for record in reader:
        values = {k: (v or "").strip() for k, v in record.items() if isinstance(k, str)}
        errors: list[str] = []
        rows.append(_row(values, reader.line_num, errors))
        if errors:
            problems.append(f"line {reader.line_num}: " + ", ".join(errors))
    if problems:
        shown = "; ".join(problems[:MAX_REPORTED])
        more = f"; and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        raise InvalidInput(
            f"{len(problems)} bad row(s), nothing imported: {shown}{more}", field="file"
        )
    if not rows:
        raise InvalidInput("the file has no usage rows", field="file")
    return rows
