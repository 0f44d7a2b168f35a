"""Areas of responsibility: the built-in ones every clinic has, and a clinic's own.

Each area of a patient has exactly one responsible member once it is filled,
and an area nobody holds is a gap, shown red to staff and never hidden. The
words are what the patient reads: what the holder does, not a job title.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.care_team.models import ClinicArea
from server.extensions import db

COORDINATOR = "coordinator"
MEDICATION = "medication"


@dataclass(frozen=True)
class Area:
    key: str
    label: LazyString | str
    #: What the holder is responsible for, in plain words.
    description: LazyString | str
    #: The label on paper and in an SMS, where others may read it: never a treatment word.
    paper: LazyString | str | None = None


BUILT_IN: tuple[Area, ...] = (
    Area(COORDINATOR, _l("Coordinator"),
         _l("Holds the threads: the person to ask when you are unsure who does what.")),
    Area(MEDICATION, _l("Medication and take-home"),
         _l("Your medication, the pickup plan and take-home requests."),
         _l("Your pickup plan and your requests to the clinic")),
    Area("somatic", _l("Physical health"),
         _l("Check-ups, illness and other health problems.")),
    Area("mental", _l("Mental health"), _l("How you feel, and talks when things are hard.")),
    Area("housing", _l("Housing"), _l("A safe place to live, and help at home.")),
    Area("work_money", _l("Work and money (NAV)"),
         _l("Income, benefits, work and activities.")),
    Area("individual_plan", _l("Individual plan"),
         _l("Your individual plan: your goals, and who does what to reach them.")),
)

_BY_KEY = {area.key: area for area in BUILT_IN}


def paper_label(area: Area) -> LazyString | str:
    """What a letter or an SMS calls the area."""
    return area.paper or area.label


def clinic_key(area_id: int) -> str:
    return f"clinic:{area_id}"


def areas_for(clinic_id: int) -> list[Area]:
    """The built-in areas, then the clinic's own, in the order they were added."""
    own = db.session.scalars(select(ClinicArea).where(
        ClinicArea.clinic_id == clinic_id, ClinicArea.archived_at.is_(None))
        .order_by(ClinicArea.id))
    return [*BUILT_IN, *(Area(clinic_key(a.id), a.label, a.description) for a in own)]


def area(key: str) -> Area:
    """The area with ``key``; a clinic's own area that is gone keeps a plain name."""
    if key in _BY_KEY:
        return _BY_KEY[key]
    if key.startswith("clinic:") and key[7:].isdigit():
        found = db.session.get(ClinicArea, int(key[7:]))
        if found is not None:
            return Area(key, found.label, found.description)
    return Area(key, key, "")


def is_area_of(key: str, clinic_id: int) -> bool:
    """Is ``key`` an area this clinic uses?"""
    return any(a.key == key for a in areas_for(clinic_id))
