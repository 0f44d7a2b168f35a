"""Where you are signed in: every open session of the signed-in person, and ending them.

For patients, relatives and staff alike. A phone that was lost, or a shared
computer someone forgot to sign out of, can be signed out from here; the
session row ends at once, so that browser's next click lands on the sign-in
page.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server.forms.common import ConfirmForm
from server.services import sessions

bp = Blueprint("signed_in", __name__, url_prefix="/signed-in")


@bp.get("/")
def index() -> str:
    """Each open session: which browser, since when, last used; this one marked."""
    token = current_user.get_id()
    # This browser first, then the others, the most recently used first.
    rows = sorted(sessions.open_for(current_user),
                  key=lambda row: not sessions.is_current(row, token))
    return render_template("account/sessions.html", rows=rows, form=ConfirmForm(),
                           is_current=lambda row: sessions.is_current(row, token))


@bp.post("/<int:session_id>/end")
def end(session_id: int) -> WerkzeugResponse:
    """Sign out one other browser (only the person's own sessions can be reached)."""
    if ConfirmForm().validate_on_submit():
        if sessions.end_one_of(current_user, session_id):
            flash(_("That browser is signed out."), "success")
    return redirect(url_for("signed_in.index"))


@bp.post("/others/end")
def end_others() -> WerkzeugResponse:
    """Sign out everywhere except here."""
    if ConfirmForm().validate_on_submit():
        count = sessions.end_others(current_user, str(current_user.get_id()))
        flash(_("Signed out everywhere else (%(n)d).", n=count) if count
              else _("You were not signed in anywhere else."), "success")
    return redirect(url_for("signed_in.index"))
