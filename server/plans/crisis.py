"""The crisis plan ("When things get hard"): the patient's own words in seven steps.

Every save is a new version (``CrisisPlanVersion``): nothing is overwritten, and the patient
can read earlier versions and who saved them. A save names the version it started from; when
someone saved in between (the patient on another phone, or staff with the patient), the save
is refused with ``PlanChanged`` and the view shows the newer plan beside what was typed, so
the person can merge by hand.

Who may read it: the patient; the care team of the patient's current clinic while the
patient shares it with them (the default); a relative with the "see my crisis plan" scope.
The loaders in server/policy.py decide and write the access log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.messages.conversations import clean as plain_text
from server.models import Channel, MessagePurpose, PatientProfile, User
from server.models.base import utcnow
from server.plans.models import CrisisPlanVersion
from server.services import outbox
from server.services.errors import DomainError
from server.services.phone_numbers import InvalidPhoneNumber, normalize_phone

#: The steps written in the patient's words, in order (contacts is a list of name and number).
TEXT_STEPS = ("warning_signs", "self_help", "helpers", "meet", "naloxone")
TEXT_MAX = 2000
NAME_MAX = 100
CONTACTS_MAX = 5

#: The steps' headings, as the page, the form and the PDF show them.
HEADINGS = {
    "warning_signs": _l("1. Signs that things are getting worse"),
    "self_help": _l("2. What I can do myself"),
    "helpers": _l("3. People and places that help me"),
    "contacts": _l("4. Whom I contact"),
    "professionals": _l("5. Professionals and crisis lines"),
    "meet": _l("6. How I want to be met"),
    "overdose": _l("7. Overdose"),
}
#: First aid for an overdose, in four plain steps (step 7 of every plan).
FIRST_AID = (
    _l("Call 113. Say you think it is an overdose."),
    _l("Give naloxone nose spray: one spray in one nostril."),
    _l("Check the breathing. If the person breathes, put them on their side. If not, start "
       "CPR as 113 tells you."),
    _l("Stay until help comes. If the person does not wake up after 2 to 3 minutes, give "
       "one more spray."),
)

#: Numbers every plan shows (step 5), whatever the patient wrote.
EMERGENCY = "113"
LEGEVAKT = "116117"


class CrisisPlanError(DomainError):
    """A crisis plan that cannot be saved as written."""


class PlanChanged(DomainError):
    """Someone saved the plan after this person started; nothing was saved."""

    def __init__(self, current: CrisisPlanVersion) -> None:
        super().__init__(_l("The plan was changed while you were writing. Your text is kept "
                            "below: compare it with the saved plan, and save again."), "changed")
        self.current = current


@dataclass
class Contact:
    name: str
    phone: str


@dataclass
class PlanInput:
    texts: dict[str, str] = field(default_factory=dict)
    contacts: list[Contact] = field(default_factory=list)
    shared_with_team: bool = True


def current(patient: PatientProfile) -> CrisisPlanVersion | None:
    """The newest version, or None when the patient has none."""
    return db.session.scalars(
        select(CrisisPlanVersion).where(CrisisPlanVersion.patient_id == patient.id)
        .order_by(CrisisPlanVersion.version.desc()).limit(1)).first()


def versions(patient: PatientProfile) -> list[CrisisPlanVersion]:
    """Every version, newest first, with who saved it."""
    return list(db.session.scalars(
        select(CrisisPlanVersion).where(CrisisPlanVersion.patient_id == patient.id)
        .options(joinedload(CrisisPlanVersion.saved_by))
        .order_by(CrisisPlanVersion.version.desc())))


def version(patient: PatientProfile, number: int) -> CrisisPlanVersion | None:
    return db.session.scalar(select(CrisisPlanVersion).where(
        CrisisPlanVersion.patient_id == patient.id, CrisisPlanVersion.version == number))


def _clean(text: str, limit: int, field_name: str) -> str:
    value = plain_text(text)
    if len(value) > limit:
        raise CrisisPlanError(_l("Please keep it under %(n)d characters.", n=limit), "too_long",
                              field_name)
    return value


def validate(data: PlanInput) -> dict[str, Any]:
    """The content to store, or CrisisPlanError naming the field."""
    content: dict[str, Any] = {}
    for step in TEXT_STEPS:
        content[step] = _clean(data.texts.get(step, ""), TEXT_MAX, step)
    contacts = []
    for n, contact in enumerate(data.contacts[:CONTACTS_MAX]):
        name = _clean(contact.name, NAME_MAX, f"contacts-{n}-name")
        raw = contact.phone.strip()
        if not name and not raw:
            continue
        if not name:
            raise CrisisPlanError(_l("Write who this is, for example “my sister Line”."),
                                  "no_name", f"contacts-{n}-name")
        try:
            phone = normalize_phone(raw) if raw else ""
        except InvalidPhoneNumber as exc:
            raise CrisisPlanError(exc.message, "bad_phone", f"contacts-{n}-phone") from None
        contacts.append({"name": name, "phone": phone})
    content["contacts"] = contacts
    if not any(content[step] for step in TEXT_STEPS) and not contacts:
        raise CrisisPlanError(_l("Write something in at least one of the steps."), "empty",
                              TEXT_STEPS[0])
    return content


def save(patient: PatientProfile, data: PlanInput, by: User,
         based_on: int | None) -> CrisisPlanVersion:
    """Store a new version. ``based_on`` is the version the person started from (None for a
    first plan); a different current version raises PlanChanged and stores nothing. Commits."""
    content = validate(data)
    latest = current(patient)
    if latest is not None and latest.version != based_on:
        raise PlanChanged(latest)
    number = (db.session.scalar(select(func.max(CrisisPlanVersion.version)).where(
        CrisisPlanVersion.patient_id == patient.id)) or 0) + 1
    saved = CrisisPlanVersion(patient_id=patient.id, version=number, content=content,
                              shared_with_team=data.shared_with_team, saved_by_id=by.id)
    db.session.add(saved)
    _send_letter(patient)
    try:
        db.session.commit()
    except IntegrityError:  # two saves of the same version at the same moment: one wins
        db.session.rollback()
        newest = current(patient)
        if newest is None:
            raise CrisisPlanError(_l("The plan could not be saved. Please try again."),
                                  "retry") from None
        raise PlanChanged(newest) from None
    return saved


def _send_letter(patient: PatientProfile) -> None:
    """Patients who read on paper get the plan by letter when it changes: one letter a day at
    most, with the plan as it stands when the letter is printed (in the caller's transaction)."""
    if outbox.reads_on_paper(patient):
        outbox.enqueue(key=f"crisis_plan:{patient.id}:{utcnow().date().isoformat()}",
                       purpose=MessagePurpose.CRISIS_PLAN, patient=patient,
                       template="crisis_plan", params={"patient_id": patient.id},
                       channels=[Channel.LETTER.value])


def changed_steps(older: CrisisPlanVersion | None, newer: CrisisPlanVersion) -> list[str]:
    """The steps a version changed, for "who changed what"."""
    before = older.content if older else {}
    steps = [s for s in (*TEXT_STEPS, "contacts") if before.get(s) != newer.content.get(s)]
    if older is not None and older.shared_with_team != newer.shared_with_team:
        steps.append("shared")
    return steps
