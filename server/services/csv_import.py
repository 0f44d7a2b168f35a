"""Import appointments from a CSV export: the whole file goes in, or none of it.

Columns (header row required, order free, UTF-8, comma or semicolon):

    patient        Følge patient number (shown on the patient's page)
    date           YYYY-MM-DD, local date
    time           HH:MM, local time (Europe/Oslo)
    duration       minutes (optional, default 30)
    service        clinic | gp | municipality | psychiatry | other
    service_name   the service as the patient knows it
    meeting        in_person | phone | video (optional, default in_person)
    place_name, address, meet_role, meet_name, prepare   (optional)
    cancel_by      YYYY-MM-DD HH:MM, local (optional)
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.models import MeetingKind, PatientProfile, ServiceKind, User
from server.models.base import utcnow
from server.notify.discreet import giveaway
from server.numbers import row_id, whole_number
from server.services import appointments
from server.services.errors import DomainError
from server.services.local_time import to_utc

REQUIRED = ("patient", "date", "time", "service", "service_name")
KNOWN = (*REQUIRED, "duration", "meeting", "place_name", "address", "meet_role", "meet_name",
         "prepare", "cancel_by")
MAX_ROWS = 5000
MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


class ImportRejected(DomainError):
    """The file was not imported; ``errors`` says where and why."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(_l("Nothing was imported. Fix the lines below and try again."), "rows")
        self.errors = errors


def _read(raw: bytes) -> list[dict[str, str]]:
    if len(raw) > MAX_BYTES:
        raise ImportRejected([RowError(0, _("The file is too large (at most 2 MB)."))])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([RowError(0, _("The file must be saved as UTF-8."))]) from None
    sample = text[:2000]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    if "\x00" in text:
        raise ImportRejected([RowError(0, _("The file contains characters that are not text. "
                                            "Save it again as CSV (UTF-8)."))])
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ImportRejected([RowError(1, _("Missing columns: %(columns)s",
                                                columns=", ".join(missing)))])
        reader.fieldnames = header
        rows = [{k: (v or "").strip() for k, v in row.items() if isinstance(k, str) and k}
                for row in reader]
    except csv.Error:
        # A cell longer than the csv module's limit (128 KiB), or broken quoting.
        raise ImportRejected([RowError(reader.line_num, _(
            "This line cannot be read as CSV: a cell is far too long or a quote is not "
            "closed."))]) from None
    if len(rows) > MAX_ROWS:
        raise ImportRejected([RowError(0, _("At most %(n)d lines per file.", n=MAX_ROWS))])
    if not rows:
        raise ImportRejected([RowError(2, _("The file has no appointments."))])
    return rows


def _patients(rows: list[dict[str, str]]) -> dict[int, PatientProfile]:
    """The patients the rows name, with their clinics, in one query per thousand numbers
    (not one per line: a file names the same patients many times, and a large one
    thousands of them)."""
    numbers = sorted({n for n in (row_id(row["patient"]) for row in rows) if n is not None})
    found: dict[int, PatientProfile] = {}
    for first in range(0, len(numbers), 1000):
        found.update((p.id, p) for p in db.session.scalars(
            select(PatientProfile).where(PatientProfile.id.in_(numbers[first:first + 1000]))
            .options(joinedload(PatientProfile.clinic))))
    return found


def _row_input(row: dict[str, str], patients: dict[int, PatientProfile],
               clinic_ids: set[int]) -> tuple[PatientProfile, appointments.AppointmentInput]:
    """Parse one row, raising ValueError with a message for the person."""
    number = row_id(row["patient"])
    patient = patients.get(number) if number is not None else None
    if patient is None or patient.clinic_id not in clinic_ids:
        raise ValueError(_("Unknown patient number “%(value)s”.", value=row["patient"]))
    try:
        day = date.fromisoformat(row["date"])
    except ValueError:
        raise ValueError(_("The date “%(value)s” is not in the form YYYY-MM-DD.",
                           value=row["date"])) from None
    try:
        at = time.fromisoformat(row["time"])
    except ValueError:
        raise ValueError(_("The time “%(value)s” is not in the form HH:MM.",
                           value=row["time"])) from None
    try:
        service = ServiceKind(row["service"].lower())
    except ValueError:
        raise ValueError(_("Unknown service “%(value)s”.", value=row["service"])) from None
    try:
        meeting = MeetingKind((row.get("meeting") or "in_person").lower())
    except ValueError:
        raise ValueError(_("Unknown kind of meeting “%(value)s”.", value=row["meeting"])) from None
    duration = whole_number(row.get("duration") or "30", 5, 720)
    if duration is None:
        raise ValueError(_("The length “%(value)s” is not a number of minutes from 5 to 720.",
                           value=row["duration"]))
    if not row["service_name"]:
        raise ValueError(_("The service name is empty."))
    cancel_by = None
    if row.get("cancel_by"):
        try:
            when = datetime.strptime(row["cancel_by"], "%Y-%m-%d %H:%M")
        except ValueError:
            raise ValueError(_("“%(value)s” is not in the form YYYY-MM-DD HH:MM.",
                               value=row["cancel_by"])) from None
        cancel_by = to_utc(when.date(), when.time(), patient.clinic.timezone)
    for column, limit in (("service_name", 200), ("place_name", 200), ("address", 300),
                          ("meet_role", 100), ("meet_name", 200), ("prepare", 2000)):
        if len(row.get(column, "")) > limit:
            raise ValueError(_("“%(column)s” is longer than %(n)d characters.", column=column,
                               n=limit))
    data = appointments.AppointmentInput(
        starts_at=to_utc(day, at, patient.clinic.timezone), duration_minutes=duration,
        service=service, service_name=row["service_name"], meeting=meeting,
        place_name=row.get("place_name", ""), address=row.get("address", ""),
        meet_role=row.get("meet_role", ""), meet_name=row.get("meet_name", ""),
        prepare=row.get("prepare", ""), cancel_by=cancel_by,
    )
    return patient, data


def import_csv(raw: bytes, clinic_ids: list[int], by: User) -> int:
    """Import every row or none; returns the number of appointments created. Commits."""
    rows = _read(raw)
    allowed = set(clinic_ids)
    patients = _patients(rows)
    parsed = []
    errors: list[RowError] = []
    # The service's own checks per line too (e.g. words that give the treatment away), so
    # a bad line is named like any other; a file repeats its texts, each is searched once.
    words = functools.cache(giveaway)
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        try:
            patient, data = _row_input(row, patients, allowed)
            appointments.check(data, words)
            parsed.append((number, patient, data))
        except (ValueError, DomainError) as exc:
            message = str(exc.message) if isinstance(exc, DomainError) else str(exc)
            errors.append(RowError(number, message))
    if errors:
        raise ImportRejected(errors)
    now = utcnow()
    past = [RowError(number, _("The appointment must be in the future."))
            for number, _patient, data in parsed if data.starts_at <= now]
    if past:
        raise ImportRejected(past)
    try:
        # In bulk: the rows are written without Appointment objects (none is needed here).
        appointments.record_many([(patient, data) for _n, patient, data in parsed], by)
    except BaseException:
        db.session.rollback()
        raise
    return len(parsed)
