"""CSV contact lists: each row checked (number, time zone, duplicates), a rejection per bad row,
and every valid row imported in ONE transaction (never a half-written campaign).

Columns: phone (required), name, time_zone (or tz; blank = the campaign's default), email,
language, channel (voice/sms/email); every other column becomes a message variable.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import phonenumbers

from ivr.campaigns.errors import ImportRejected
from ivr.campaigns.scheduler import first_call, is_time_zone
from ivr.store.db import Database
from ivr.store.domain import NewContact
from ivr.store.repositories.campaigns import CampaignRepository

KNOWN = {"phone", "name", "time_zone", "tz", "email", "language", "channel"}
CHANNELS = ("voice", "sms", "email")
Progress = Callable[[int, int], None]  # (rows done, rows total)
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class Rejection:
    line: int  # line in the file (the header is line 1)
    phone: str
    reason: str


@dataclass
class ImportReport:
    campaign: str
    rows: int = 0
    imported: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"campaign": self.campaign, "rows": self.rows, "imported": self.imported,
                "rejected": [{"line": r.line, "phone": r.phone, "reason": r.reason}
                             for r in self.rejected]}


def normalize_phone(raw: str, region: str) -> str | None:
    """E.164 for a valid number, else None."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_row(row: dict[str, str], default_tz: str, region: str) -> NewContact | str:
    """A contact, or the reason the row is rejected."""
    raw = (row.get("phone") or "").strip()
    phone = normalize_phone(raw, region) if raw else None
    if phone is None:
        return f"invalid phone number {raw!r}" if raw else "missing phone number"
    tz = (row.get("time_zone") or row.get("tz") or "").strip() or default_tz
    if not is_time_zone(tz):
        return f"unknown time zone {tz!r}"
    channel = (row.get("channel") or "voice").strip().lower() or "voice"
    if channel not in CHANNELS:
        return f"unknown channel {channel!r} (voice, sms or email)"
    email = (row.get("email") or "").strip() or None
    if channel == "email" and email is None:
        return "channel email needs an email address"
    variables = {k: (v or "").strip() for k, v in row.items() if k and k not in KNOWN}
    return NewContact(phone=phone, name=(row.get("name") or "").strip(), time_zone=tz,
                      email=email, language=(row.get("language") or "en").strip() or "en",
                      channel=channel, variables=variables)


def decode_csv(data: bytes, content_type: str | None = None) -> str:
    """The file's text: in the charset the Content-Type names, else by its BOM (UTF-8 or the
    UTF-16 that spreadsheets write as "Unicode text"), else UTF-8. Undecodable bytes or a NUL
    are refused with where they are, never guessed at."""
    charset = _charset(content_type)
    if charset is None:
        bom = next((c for b, c in BOMS if data.startswith(b)), None)
        charset = bom or "utf-8"
    try:
        codec = codecs.lookup(charset)
    except LookupError:
        raise ImportRejected(f"unknown charset {charset!r} in the Content-Type") from None
    try:
        text = data.decode(codec.name)
    except UnicodeDecodeError as err:
        bad = data[err.start:err.start + 1].hex()
        raise ImportRejected(
            f"the file is not valid {_label(codec.name)} (byte 0x{bad} at offset {err.start}): "
            "save it as 'CSV UTF-8', or name its charset (text/csv; charset=latin-1)") from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportRejected(f"the file has a NUL character on line {line}: not a CSV text file")
    return text


def _charset(content_type: str | None) -> str | None:
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


def _label(codec_name: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16"}.get(codec_name,
                                                                         codec_name)


def read_rows(text: str) -> tuple[list[str], Iterable[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "phone" not in header:
        raise ImportRejected("the CSV file needs a header row with a 'phone' column")
    reader.fieldnames = header
    return header, reader


def import_csv(db: Database, campaign_name: str, text: str, *, region: str = "US",
               progress: Progress | None = None) -> ImportReport:
    """Check every row, then insert the valid ones in one transaction."""
    repo = CampaignRepository(db)
    campaign = repo.get(campaign_name)
    _, rows = read_rows(text)
    report = ImportReport(campaign_name)
    contacts: list[NewContact] = []
    lines: list[int] = []
    all_rows = list(rows)
    for index, row in enumerate(all_rows):
        line = index + 2
        parsed = parse_row(row, campaign.default_time_zone, region)
        if isinstance(parsed, str):
            report.rejected.append(Rejection(line, (row.get("phone") or "").strip(), parsed))
        else:
            contacts.append(parsed)
            lines.append(line)
        if progress is not None and (index % 500 == 0 or index == len(all_rows) - 1):
            progress(index + 1, len(all_rows))
    report.rows = len(all_rows)
    inserted, duplicates = repo.add_contacts(campaign.id, contacts, first_call)
    for i in duplicates:
        report.rejected.append(Rejection(lines[i], contacts[i].phone, "duplicate phone number"))
    report.rejected.sort(key=lambda r: r.line)
    report.imported = inserted
    return report
