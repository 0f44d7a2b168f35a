"""A name a person recognises for one of their devices, e.g. "Chrome Mobile, Android".

Used on "Where you are signed in" and for push subscriptions. The browser's
User-Agent header is read with ua-parser; it is the browser's own claim, so
it names a device for the person and is never used to decide anything.
"""

from __future__ import annotations

from ua_parser import parse

#: Labels are stored; keep them short.
LABEL_MAX = 100


def device_label(user_agent: str) -> str:
    """Browser and system from a User-Agent string; "" when neither can be read."""
    if not user_agent:
        return ""
    result = parse(user_agent[:1000])
    browser = result.user_agent.family if result.user_agent else ""
    system = result.os.family if result.os else ""
    if browser and system and system != "Other":
        # Product names need no translation; the label is stored and shown in any language.
        return f"{browser}, {system}"[:LABEL_MAX]
    return (browser or system)[:LABEL_MAX]
