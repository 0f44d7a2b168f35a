"""The one parser for whole numbers typed by people or sent by browsers.

Python's ``int()`` takes more than a person means: "²" passes ``isdigit()`` and
then fails in ``int()``, "٣" (Arabic-Indic three) is read as 3, and a
5,000-digit string raises because of the interpreter's digit limit; any of them
reached a database as an out-of-range integer. Here only ASCII digits count,
at most ``MAX_DIGITS`` of them, and the value must lie within the bounds the
caller gives. Anything else is None, which the caller turns into its own
message.
"""

from __future__ import annotations

import re

#: More digits than any count, id or score in Følge needs (a 32-bit id has 10).
MAX_DIGITS = 12

_WHOLE = re.compile(rf"-?[0-9]{{1,{MAX_DIGITS}}}")

#: The largest id a table can hold: PostgreSQL's INTEGER is 32 bits.
MAX_ID = 2**31 - 1


def whole_number(text: object, minimum: int | None = None,
                 maximum: int | None = None) -> int | None:
    """``text`` as an int when it is ASCII digits (a leading minus only when ``minimum`` is
    below 0) within ``minimum``..``maximum``; None otherwise. Spaces around are ignored."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        value = text
    elif isinstance(text, str) and _WHOLE.fullmatch(text.strip()):
        value = int(text.strip())
    else:
        return None
    if value < 0 and (minimum is None or minimum >= 0):
        return None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        return None
    return value


def row_id(text: object) -> int | None:
    """A database id (1..MAX_ID) from a form value, or None."""
    return whole_number(text, 1, MAX_ID)
