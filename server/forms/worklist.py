"""Staff forms on the worklist: take or give an item, done (one or several) with a note."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import Length

from server.forms.base import Form


class WorkForm(Form):
    """Every worklist action carries the list's filters back (re-read, never trusted)."""

    back = HiddenField()


class AssignForm(WorkForm):
    #: "me", "none" (back to the clinic) or a colleague's id; the choices are set by the view.
    assignee = SelectField(_l("Give to"), choices=[])


class DoneForm(WorkForm):
    note = StringField(_l("Note (optional)"), validators=[Length(max=500)])
