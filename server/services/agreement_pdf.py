"""The relative agreement (pårørendeavtale) as a PDF to print and sign.

In the patient's language; it names the patient, the relative, what the
relative may see in Følge, and the four parts of the agreement.
"""

from __future__ import annotations

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from fpdf import FPDF

from server.labels import RELATIVE_SCOPES
from server.locales import babel_locale
from server.models import RelativeAccess, RelativeAgreement
from server.models.base import utcnow
from server.notify.letter import FONT, clinic_document, latin1, small_print


def _section(pdf: FPDF, title: str, text: str) -> None:
    pdf.set_font(FONT, style="B", size=12)
    pdf.multi_cell(0, 7, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 6, latin1(text or "-"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def render_agreement(access: RelativeAccess, agreement: RelativeAgreement) -> bytes:
    patient = access.patient
    clinic = patient.clinic
    with force_locale(babel_locale(patient.user.language)):
        title = _("Relative agreement")
        scopes = [str(RELATIVE_SCOPES[s]) for s in access.scopes or [] if s in RELATIVE_SCOPES]
        sections = [
            (_("Patient"), patient.display_name),
            (_("Relative or close person"),
             f"{access.name} ({access.relationship_text})"),
            (_("What they may do in Følge"), "\n".join(scopes) or _("Nothing yet")),
            (_("The relative's role"), agreement.role),
            (_("What they can expect from the clinic"), agreement.expectations),
            (_("Whom to contact at the clinic"), agreement.contact),
            (_("How often they are kept informed"), agreement.frequency),
        ]
        footer = _("Made %(date)s. Signatures: patient, relative, clinic.",
                   date=format_date(utcnow(), "long"))
    pdf = clinic_document(title, clinic, utcnow())
    for heading, text in sections:
        _section(pdf, heading, text)
    small_print(pdf, footer)
    return bytes(pdf.output())
