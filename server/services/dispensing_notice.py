"""The dispensing notice: what the pickup place needs to know about an approved take-home.

A one-page PDF for the clinic to send to the pharmacy or home service: the
patient's name and date of birth as the clinic has them, the approved dates
and number of days, the pickup place, and the deciding doctor. It is written
in Norwegian Bokmål, the language of the pickup places, whatever language
the staff member uses. It names no medication: the prescription does that.
Sending it is outside Følge.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from fpdf import FPDF

from server.labels import PICKUP_PLACES_STAFF
from server.models import TakeHomeRequest
from server.models.base import utcnow
from server.notify.letter import FONT, clinic_document, latin1, small_print

#: The language of the notice.
LANGUAGE = "nb"


def _row(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font(FONT, style="B", size=11)
    pdf.cell(60, 7, latin1(label))
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 7, latin1(value), new_x="LMARGIN", new_y="NEXT")


def render_dispensing_notice(request: TakeHomeRequest, now: datetime | None = None) -> bytes:
    """The notice for a granted period request. Needs an app context."""
    if request.approved_first_day is None or request.approved_last_day is None:
        raise ValueError("a dispensing notice needs an approved period")
    now = now or utcnow()
    clinic = request.clinic
    patient = request.patient
    place = request.approved_place
    with force_locale(LANGUAGE):
        title = _("Dispensing notice: take-home")
        place_text = str(PICKUP_PLACES_STAFF[place.value]) if place else ""
        if request.approved_place_name:
            place_text = f"{place_text}: {request.approved_place_name}"
        birth = (format_date(patient.date_of_birth, "long") if patient.date_of_birth
                 else _("not registered"))
        rows = [
            (_("Patient"), patient.display_name),
            (_("Date of birth"), birth),
            (_("From"), format_date(request.approved_first_day, "long")),
            (_("To"), format_date(request.approved_last_day, "long")),
            (_("Number of days"), str(request.approved_days)),
            (_("Pickup place"), place_text),
            (_("Decided by"), request.decided_by.display_name if request.decided_by else ""),
            (_("Decided on"), format_date(request.decided_at, "long") if request.decided_at
             else ""),
            (_("Reference"), f"TH-{request.id}"),
        ]
        footer = _("Made in Følge on %(date)s. The clinic sends this notice to the pickup "
                   "place; questions go to the clinic on %(phone)s.",
                   date=format_date(now, "long"), phone=clinic.phone)

    pdf = clinic_document(title, clinic, now)
    for label, value in rows:
        _row(pdf, label, value)
    small_print(pdf, footer)
    return bytes(pdf.output())
