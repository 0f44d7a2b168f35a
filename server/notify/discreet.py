"""Words that must never leave Følge in a message or on a letter (DOMAIN.md, discreet by
default): medication, treatment and the kind of clinic. Free text that goes into reminders and
letters (an appointment's address and "what to bring") is checked against them when it is
saved, from the staff form, a CSV import or the record system's FHIR interface alike.
"""

from __future__ import annotations

import re

GIVEAWAYS = re.compile(
    r"\b(LAR|rus|rusmiddel\w*|rusbehandling\w*|metadon\w*|methadone|buprenorfin\w*|"
    r"buprenorphine|subutex|suboxone|morfin\w*|morphine|opioid\w*|heroin|legemiddel\w*|"
    r"medisin\w*|medication\w*|dose\w*|dosering\w*|avhengighet\w*|addiction|TSB|"
    r"substitusjon\w*|take-home|utlevering\w*)\b",
    re.IGNORECASE,
)


def giveaway(text: str) -> str | None:
    """The first word of ``text`` that would tell what the appointment is about, if any."""
    found = GIVEAWAYS.search(text or "")
    return found.group(0) if found else None
