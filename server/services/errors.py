"""The base of every domain error a service raises.

A domain error carries a translatable message a person can act on; views
show it as it is.
"""

from __future__ import annotations

from flask_babel import LazyString


class DomainError(Exception):
    """An error with a message meant for the person who caused it."""

    def __init__(self, message: LazyString | str, code: str = "", field: str = "") -> None:
        super().__init__(str(code or message))
        self.message = message
        self.code = code
        #: The form field the message belongs to, when there is one.
        self.field = field
