"""Parsing the provider's SIM inventory CSV (columns iccid, imsi, msisdn, bic).

Every bad row is reported, by line number, in one error; a file with any bad row imports
nothing. ICCIDs: 19 digits are taken as emnify-style ICCIDs without check digit; 20 digits
must end in a valid Luhn check digit (the ITU-T E.118 form) -- a typo there is caught.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from linkplane.errors import InvalidInput
from linkplane.ids import ascii_digits

COLUMNS = ("iccid", "imsi", "msisdn", "bic")
MAX_REPORTED = 50


@dataclass(frozen=True)
class SimRow:
    line: int
    iccid: str
    imsi: str
    msisdn: str
    bic: str


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to ``digits``."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def iccid_with_luhn(iccid: str) -> str:
    return iccid if len(iccid) == 20 else iccid + luhn_digit(iccid)


def _row_errors(iccid: str, imsi: str, msisdn: str, bic: str) -> list[str]:
    errors = []
    if not (ascii_digits(iccid) and len(iccid) in (19, 20)):
        errors.append(f"iccid {iccid!r} must be 19 or 20 digits")
    elif len(iccid) == 20 and luhn_digit(iccid[:19]) != iccid[19]:
        errors.append(f"iccid {iccid!r} has a wrong Luhn check digit")
    if not (ascii_digits(imsi) and len(imsi) == 15):
        errors.append(f"imsi {imsi!r} must be 15 digits")
    if not (ascii_digits(msisdn) and 7 <= len(msisdn) <= 15):
        errors.append(f"msisdn {msisdn!r} must be 7 to 15 digits")
    if not (bic and len(bic) <= 64 and bic.replace("-", "").isalnum()):
        errors.append(f"bic {bic!r} must be 1 to 64 letters, digits or '-'")
    return errors


def _duplicates(row: SimRow, seen: dict[tuple[str, str], int]) -> list[str]:
    errors = []
    for column in ("iccid", "imsi", "msisdn"):
        key = (column, getattr(row, column))
        if key in seen:
            errors.append(f"{column} {key[1]} repeats line {seen[key]}")
        else:
            seen[key] = row.line
    return errors


def _fail(problems: list[str]) -> InvalidInput:
    shown = problems[:MAX_REPORTED]
    more = len(problems) - len(shown)
    tail = f"; and {more} more" if more else ""
    return InvalidInput(
        f"{len(problems)} bad row(s), nothing imported: " + "; ".join(shown) + tail, field="file"
    )


def parse(text: str) -> list[SimRow]:
    """Valid rows of the CSV, or InvalidInput listing every bad line (nothing half-read)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InvalidInput(f"line 1: missing column(s) {', '.join(missing)}", field="file")
    reader.fieldnames = header
    rows: list[SimRow] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for record in reader:
        line = reader.line_num
        values = {c: (record.get(c) or "").strip() for c in COLUMNS}
        row = SimRow(line=line, **values)
        errors = _row_errors(**values) + _duplicates(row, seen)
        if errors:
            problems.append(f"line {line}: " + ", ".join(errors))
        rows.append(row)
    if problems:
        raise _fail(problems)
    if not rows:
        raise InvalidInput("the file has no SIM rows", field="file")
    return rows


def fail_existing(conflicts: list[str]) -> InvalidInput:
    return _fail(conflicts)
