"""The crisis plan as a PDF to print and keep: the same steps and words as the page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from server.extensions import db
from server.locales import babel_locale
from server.models import PatientProfile
from server.models.base import utcnow
from server.notify.letter import FONT, clinic_document, latin1, small_print, write_sections
from server.plans import crisis
from server.plans.models import CrisisPlanVersion
from server.services.phone_numbers import display_phone


def sections(patient: PatientProfile, plan: CrisisPlanVersion,
             on_paper: bool = False) -> list[tuple[str, list[str]]]:
    """The plan as headed sections of lines, in the current locale: the PDF and the letter
    (``on_paper``: a letter names "your clinic", never the clinic's name, which may tell
    what kind of clinic it is)."""
    clinic = patient.clinic
    found: list[tuple[str, list[str]]] = [
        (_("Need help now?"), [_("Danger to life, or an overdose: call 113."),
                               _("Urgent, but not life-threatening: legevakt 116 117.")]),
    ]
    content = plan.content
    for step in ("warning_signs", "self_help", "helpers"):
        found.append((str(crisis.HEADINGS[step]), [content.get(step) or "-"]))
    found.append((str(crisis.HEADINGS["contacts"]), [
        f"{c['name']}: {display_phone(c['phone'])}" if c.get("phone") else c["name"]
        for c in content.get("contacts", [])] or ["-"]))
    numbers = [f"{_('Your clinic') if on_paper else clinic.name}: {display_phone(clinic.phone)}",
               f"{_('Legevakt')}: 116 117", f"{_('Emergency')}: 113"]
    if clinic.crisis_line_phone:
        numbers.append(f"{clinic.crisis_line_name or _('Crisis line')}: "
                       f"{display_phone(clinic.crisis_line_phone)}")
    found.append((str(crisis.HEADINGS["professionals"]), numbers))
    found.append((str(crisis.HEADINGS["meet"]), [content.get("meet") or "-"]))
    found.append((str(crisis.HEADINGS["overdose"]), [
        f"{_('My naloxone is:')} {content.get('naloxone') or '-'}",
        *(f"{n}. {step}" for n, step in enumerate(crisis.FIRST_AID, start=1))]))
    return found


def letter_values(patient_id: int) -> dict[str, Any]:
    """Values for templates/notifications/letter/crisis_plan.txt: the newest plan as it
    stands when the letter is printed (in the letter's locale)."""
    patient = db.session.get(PatientProfile, patient_id)
    plan = crisis.current(patient) if patient is not None else None
    if patient is None or plan is None:
        return {"sections": [], "version": 0}
    return {"sections": sections(patient, plan, on_paper=True), "version": plan.version,
            "saved": format_date(plan.saved_at, "long")}


def render(patient: PatientProfile, plan: CrisisPlanVersion,
           now: datetime | None = None) -> bytes:
    """The plan in the patient's language (staff print it for the patient)."""
    now = now or utcnow()
    clinic = patient.clinic
    with force_locale(babel_locale(patient.user.language)):
        title = _("When things get hard")
        found = sections(patient, plan)
        footer = _("Version %(n)d, saved %(when)s. Nobody watches Følge around the clock: if "
                   "you need help now, call.", n=plan.version,
                   when=plan.saved_at.strftime("%d.%m.%Y"))
        name_line = patient.display_name
    pdf = clinic_document(title, clinic, now)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 6, latin1(name_line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    write_sections(pdf, found, size=11, line_height=6, gap=2)
    small_print(pdf, footer)
    return bytes(pdf.output())
