"""Paper letters: outbox messages on the letter channel, as one PDF for staff to print.

Each message becomes a letter on A4 for a C5/DL window envelope. Letters are
discreet by default (DOMAIN.md): the envelope window shows the recipient and
nothing else, the sender is the health trust rather than the clinic, and the
heading and document title are the neutral app name.

Core fonts (Helvetica) keep the PDF small and need no font files; they cover
Latin-1, which holds Norwegian æøå. Any other character is replaced with a
safe look-alike (en dash -> "-", curly quotes -> plain, "Č" -> "C") before it
reaches fpdf2, so no address or name can make rendering fail.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from fpdf import FPDF

from server.locales import babel_locale
from server.models import Clinic, OutboxMessage
from server.models.base import utcnow
from server.notify.texts import render_message

TITLE = "Følge"
FONT = "Helvetica"

# Layout in millimetres (A4: 210 x 297).
LEFT = 20.0
RIGHT = 20.0
TOP = 15.0
BOTTOM = 20.0
#: Recipient block: the window of a C5/DL window envelope (window about 20 mm
#: from the left, 45-90 mm from the top on a sheet folded in three/two).
WINDOW_TOP = 50.0
WINDOW_WIDTH = 85.0
#: Where the letter text starts, below the window.
TEXT_TOP = 100.0

_REPLACEMENTS = {
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2039": "<", "\u203a": ">",
    "\u2026": "...", "\u2022": "-", "\u2043": "-",
    "\u20ac": "EUR",
    # Spaces Babel and CLDR use (e.g. before "AM", in numbers), and zero-width ones.
    "\u2002": " ", "\u2003": " ", "\u2007": " ", "\u2008": " ", "\u2009": " ", "\u200a": " ",
    "\u202f": " ", "\u205f": " ", "\u3000": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
    "\u0152": "OE", "\u0153": "oe", "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d",
    "\u0131": "i", "\u02bc": "'",
}


def latin1(text: str) -> str:
    """``text`` with every character outside Latin-1 replaced, so core fonts can show it."""
    out: list[str] = []
    for char in text:
        if ord(char) < 256:
            out.append(char)
            continue
        if char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
            continue
        # "Č" -> "C" + combining caron -> "C"; compatibility forms ("ﬁ" -> "fi") too.
        decomposed = "".join(c for c in unicodedata.normalize("NFKD", char)
                             if not unicodedata.combining(c))
        if decomposed and all(ord(c) < 256 for c in decomposed):
            out.append(decomposed)
        else:
            out.append("?")
    return "".join(out)


def address_lines(address: str) -> list[str]:
    """An address as lines: split on newlines, and on commas within a line."""
    lines: list[str] = []
    for line in re.split(r"[\r\n]+", address or ""):
        lines.extend(part.strip() for part in line.split(","))
    return [line for line in lines if line]


class _LetterPdf(FPDF):
    """FPDF that marks a letter's continuation pages with the recipient's name.

    Letters are printed in batches and put in envelopes by hand; a second page
    without a name could end up in someone else's envelope.
    """

    recipient: str = ""
    letter_first_page: int = 1

    def header(self) -> None:
        if self.page > self.letter_first_page and self.recipient:
            self.set_font(FONT, size=8)
            self.set_xy(LEFT, 8)
            number = self.page - self.letter_first_page + 1
            self.cell(0, 4, latin1(f"{self.recipient} - {number}"))
            self.set_xy(LEFT, TOP + 5)
            self.set_font(FONT, size=11)


def _new_pdf(now: datetime) -> _LetterPdf:
    pdf = _LetterPdf(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(auto=True, margin=BOTTOM)
    # Neutral metadata only: a title, no subject, keywords or author that
    # could tell a shared computer or a print queue what the letters are about.
    pdf.set_title(TITLE)
    pdf.set_creator(TITLE)
    pdf.set_producer(TITLE)
    pdf.set_creation_date(now)
    return pdf


def clinic_document(title: str, clinic: Clinic, now: datetime) -> FPDF:
    """An A4 document from the clinic (not a letter in a window envelope): the clinic's
    name, address and phone at the top, then ``title``. Used for the dispensing notice
    and the relative agreement; the caller adds the body."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_title(latin1(title))
    pdf.set_creator(TITLE)
    pdf.set_producer(TITLE)
    pdf.set_creation_date(now)
    pdf.add_page()
    pdf.set_font(FONT, size=9)
    for line in [clinic.name, *address_lines(clinic.address), clinic.phone]:
        pdf.cell(0, 4.5, latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font(FONT, style="B", size=16)
    pdf.cell(0, 10, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    return pdf


def write_sections(pdf: FPDF, sections: Iterable[tuple[str, list[str]]], size: int = 10,
                   line_height: float = 5, gap: float = 3) -> None:
    """Headed sections of lines (a clinic document's body): the heading in bold, each line
    wrapped at ``size`` points and ``line_height`` mm, ``gap`` mm between sections."""
    for heading, lines in sections:
        pdf.set_font(FONT, style="B", size=12)
        pdf.multi_cell(0, 7, latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=size)
        for line in lines:
            pdf.multi_cell(0, line_height, latin1(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)


def small_print(pdf: FPDF, text: str) -> None:
    """A closing line in small type, after a gap."""
    pdf.ln(8)
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 4.5, latin1(text), new_x="LMARGIN", new_y="NEXT")


def _lines(pdf: FPDF, lines: Iterable[str], height: float, width: float = 0) -> None:
    for line in lines:
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(width, height, latin1(line), new_x="LMARGIN", new_y="NEXT")


def _add_letter(pdf: _LetterPdf, message: OutboxMessage, now: datetime) -> None:
    patient = message.patient
    clinic = patient.clinic
    name = patient.user.display_name
    language = patient.user.language or "nb"

    rendered = render_message(message, "letter", now)
    with force_locale(babel_locale(language)):
        date = format_date(now, "long")
        closing = _("Questions? Call us on %(phone)s.", phone=clinic.phone)

    pdf.recipient = name
    pdf.letter_first_page = pdf.page + 1
    pdf.add_page()

    # Return address, above the envelope window so the envelope shows none of it.
    # The health trust and the postal address only, never the clinic's name:
    # clinic names often tell what kind of clinic it is (DOMAIN.md, discreet by default).
    pdf.set_xy(LEFT, TOP)
    pdf.set_font(FONT, size=9)
    _lines(pdf, [clinic.health_trust, *address_lines(clinic.address)], 4.5)

    # Recipient, where a C5/DL window envelope shows it.
    pdf.set_xy(LEFT, WINDOW_TOP)
    pdf.set_font(FONT, size=11)
    _lines(pdf, [name, *address_lines(patient.postal_address)], 5.5, WINDOW_WIDTH)

    # Date, right-aligned, below the window.
    pdf.set_xy(LEFT, max(pdf.get_y() + 10, TEXT_TOP - 10))
    pdf.cell(0, 6, latin1(date), align="R", new_x="LMARGIN", new_y="NEXT")

    # Neutral heading, then the body: one paragraph per non-empty line.
    pdf.set_y(max(pdf.get_y() + 4, TEXT_TOP))
    pdf.set_font(FONT, style="B", size=14)
    pdf.cell(0, 8, latin1(TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, size=11)
    for paragraph in (p.strip() for p in rendered.body.splitlines()):
        if paragraph:
            _lines(pdf, [paragraph], 5.5)
            pdf.ln(3)

    pdf.ln(3)
    _lines(pdf, [closing], 5.5)


def render_letters_pdf(messages: list[OutboxMessage], now: datetime | None = None) -> bytes:
    """One PDF with a letter per message, in order; each starts on a new page.

    Needs an app context (for templates and translations).
    """
    now = now or utcnow()
    pdf = _new_pdf(now)
    for message in messages:
        _add_letter(pdf, message, now)
    if not messages:
        pdf.add_page()
    return bytes(pdf.output())


def render_letter_pdf(message: OutboxMessage, now: datetime | None = None) -> bytes:
    """One letter as a PDF."""
    return render_letters_pdf([message], now)
