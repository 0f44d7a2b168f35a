"""The staff form for a patient's national identity number."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length

from server.forms.base import Form


class PidForm(Form):
    pid = StringField(_l("National identity number (fødselsnummer or D-number), 11 digits"),
                      validators=[Length(max=40, message=_l("Write the 11 digits only."))],
                      render_kw={"inputmode": "numeric", "autocomplete": "off"})
