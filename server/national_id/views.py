"""Sign-in with ID-porten: the start, the callback, and ID-porten's logouts.

The pages are public (nobody is signed in yet); each answers 404 when ID-porten is not
configured. The back-channel logout is called by ID-porten itself, without a session or a
CSRF token: its logout token, signed by ID-porten, is what is checked.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from server.config import OidcSettings
from server.extensions import csrf, db, limiter
from server.models import SignInMethod, SignInOutcome, User
from server.national_id import oidc, pid
from server.services import sessions, sign_in_log

bp = Blueprint("national_id", __name__)
log = logging.getLogger("folge.national_id")

#: What each problem page says, and whether starting again can help.
PROBLEMS = ("expired", "cancelled", "failed", "low_level")


def _settings() -> OidcSettings:
    found = oidc.settings()
    if found is None:
        abort(404)
    return found


def _local(path: str) -> str:
    """Only a local path is kept to come back to."""
    return path if path.startswith("/") and not path.startswith("//") else ""


@bp.get("/sign-in/idporten")
@limiter.limit("20 per 15 minutes")
def start() -> WerkzeugResponse:
    """Send the browser to ID-porten with a pushed authorization request."""
    config = _settings()
    if current_user.is_authenticated:
        from server.views.auth import home_for

        return redirect(home_for(current_user))
    try:
        target = oidc.start(config, _local(request.args.get("next", "")))
    except Exception:  # noqa: BLE001 - ID-porten unreachable or refusing: one clear page
        log.exception("could not start an ID-porten sign-in")
        return redirect(url_for("national_id.problem", why="unavailable"))
    return redirect(target)


@bp.get("/sign-in/oidc/callback")
@limiter.limit("30 per 15 minutes")
def callback() -> str | WerkzeugResponse:
    """Back from ID-porten: check everything, find the patient by the number, sign in."""
    if oidc.settings("idporten") is None and oidc.settings("helseid") is None:
        abort(404)
    try:
        signed = oidc.finish(request.url, request.args.get("state"))
    except oidc.SignInProblem as exc:
        log.info("ID-porten sign-in refused: %s (%s)", exc.kind, exc.detail)
        sign_in_log.record_now(SignInMethod.IDPORTEN, SignInOutcome.FAILURE, None)
        return redirect(url_for("national_id.problem", why=exc.kind))
    if signed.provider == "helseid":
        return _staff_signed_in(signed)
    if signed.purpose == "invite":
        return _accept_invitation(signed)
    if signed.purpose == "step_up":
        return _step_up_done(signed)
    user = _patient_user(signed.pid)
    if user is None:
        sign_in_log.record_now(SignInMethod.IDPORTEN, SignInOutcome.FAILURE, None)
        return render_template("national_id/not_found.html"), 200
    from server.views.auth import _begin_session, home_for

    _begin_session(user, method="idporten", level=signed.acr, oidc_sid=signed.sid,
                   id_token=signed.id_token)
    sign_in_log.record_now(SignInMethod.IDPORTEN, SignInOutcome.SUCCESS, user.id)
    return redirect(_local(signed.next_path) or home_for(user))


def _staff_signed_in(signed: oidc.SignedIn) -> str | WerkzeugResponse:
    """HelseID: the staff member with this national identity number; their HPR number kept."""
    from server.views.auth import _begin_session, home_for

    try:
        hashed = pid.keyed_hash(signed.pid)
    except pid.PidError:
        hashed = ""
    user = db.session.scalar(select(User).where(User.pid_hash == hashed)) if hashed else None
    if user is None or not user.is_staff or not user.is_active:
        sign_in_log.record_now(SignInMethod.HELSEID, SignInOutcome.FAILURE, None)
        return render_template("national_id/staff_not_found.html"), 200
    if signed.hpr and signed.hpr != user.hpr_number:
        user.hpr_number = signed.hpr[:16]
        db.session.commit()
    _begin_session(user, method="helseid", level=signed.acr or "helseid",
                   oidc_sid=signed.sid, id_token=signed.id_token)
    sign_in_log.record_now(SignInMethod.HELSEID, SignInOutcome.SUCCESS, user.id)
    return redirect(home_for(user))


@bp.get("/staff/sign-in/helseid")
@limiter.limit("20 per 15 minutes")
def staff_start() -> WerkzeugResponse:
    """Send staff to HelseID (PAR, PKCE, private_key_jwt, DPoP-bound tokens)."""
    config = oidc.settings("helseid")
    if config is None:
        abort(404)
    if current_user.is_authenticated:
        from server.views.auth import home_for

        return redirect(home_for(current_user))
    try:
        target = oidc.start(config, provider="helseid")
    except Exception:  # noqa: BLE001 - HelseID unreachable: one clear page
        log.exception("could not start a HelseID sign-in")
        return redirect(url_for("national_id.problem", why="unavailable"))
    return redirect(target)


def _step_up_done(signed: oidc.SignedIn) -> WerkzeugResponse:
    """Back from a step-up: the same person raises this session's level, and goes on."""
    person = _patient_user(signed.pid)
    if not current_user.is_authenticated or person is None or person.id != current_user.id:
        return redirect(url_for("national_id.problem", why="other_person"))
    sessions.raise_level(current_user.get_id(), signed.acr, signed.sid, signed.id_token)
    sign_in_log.record_now(SignInMethod.IDPORTEN, SignInOutcome.SUCCESS, current_user.id)
    from server.views.auth import home_for

    return redirect(_local(signed.next_path) or home_for(current_user))


@bp.get("/sign-in/step-up")
def step_up() -> str:
    """This page needs a higher sign-in level: say so, and offer ID-porten."""
    from server.national_id import levels

    _settings()
    need = request.args.get("need", "")
    return render_template("national_id/step_up.html", next=_local(request.args.get("next", "")),
                           need=need if need in levels.ORDER else levels.ORDER[1])


@bp.get("/sign-in/step-up/start")
@limiter.limit("20 per 15 minutes")
def step_up_start() -> WerkzeugResponse:
    from server.config import IDPORTEN_LEVELS

    config = _settings()
    need = request.args.get("need", "")
    try:
        target = oidc.start(config, _local(request.args.get("next", "")), purpose="step_up",
                            acr=need if need in IDPORTEN_LEVELS else None)
    except Exception:  # noqa: BLE001 - ID-porten unreachable: one clear page
        log.exception("could not start an ID-porten step-up")
        return redirect(url_for("national_id.problem", why="unavailable"))
    return redirect(target)


def _accept_invitation(signed: oidc.SignedIn) -> WerkzeugResponse:
    """A relative accepted an invitation with ID-porten: the access, and a session."""
    from server.services import relatives
    from server.services.relatives import RelativeError
    from server.views.auth import _begin_session

    token = signed.next_path.removeprefix("/invite/")
    invitation = relatives.invitation_for(token[:100])
    if invitation is None or relatives.usable(invitation) != "ok":
        return redirect(url_for("invite.show", token=token))
    try:
        number = pid.normalize(signed.pid)
        user = relatives.accept_with_national_id(invitation, pid.keyed_hash(number),
                                                 pid.masked(number))
    except (RelativeError, pid.PidError) as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("invite.show", token=token))
    _begin_session(user, method="idporten", level=signed.acr, oidc_sid=signed.sid,
                   id_token=signed.id_token)
    sign_in_log.record_now(SignInMethod.IDPORTEN, SignInOutcome.SUCCESS, user.id)
    return redirect(url_for("relative.home"))


@bp.get("/invite/<token>/idporten")
@limiter.limit("20 per 15 minutes")
def invite(token: str) -> WerkzeugResponse:
    """Accept an invitation with ID-porten instead of a code by SMS."""
    from server.services import relatives

    config = _settings()
    invitation = relatives.invitation_for(token[:100])
    if invitation is None or relatives.usable(invitation) != "ok" or \
            (current_user.is_authenticated and not current_user.is_relative):
        return redirect(url_for("invite.show", token=token))
    try:
        target = oidc.start(config, f"/invite/{token}", purpose="invite")
    except Exception:  # noqa: BLE001 - ID-porten unreachable: one clear page
        log.exception("could not start an ID-porten sign-in")
        return redirect(url_for("national_id.problem", why="unavailable"))
    return redirect(target)


def _patient_user(number: str) -> User | None:
    """The active patient or relative with this national identity number (staff sign in
    with HelseID); fills in a patient's date of birth where the clinic had none."""
    try:
        hashed = pid.keyed_hash(number)
    except pid.PidError:
        return None
    user = db.session.scalar(select(User).where(User.pid_hash == hashed))
    if user is None or not user.is_active or not (user.is_patient or user.is_relative):
        return None
    patient = user.patient_profile
    if patient is not None and patient.date_of_birth is None:
        patient.date_of_birth = pid.birth_date(number)
        db.session.commit()
    return user


_WHY = "any(expired, cancelled, failed, low_level, unavailable, other_person)"


@bp.get(f"/sign-in/idporten/problem/<{_WHY}:why>")
def problem(why: str) -> tuple[str, int]:
    """Why the sign-in did not go through, and what to do."""
    _settings()
    return render_template("national_id/problem.html", kind=why), 400


@bp.get("/signed-out")
def signed_out() -> WerkzeugResponse:
    """Where ID-porten sends the browser after its logout: on to the sign-in page (whose
    flag tells the service worker to delete what it kept)."""
    flash(_("You are signed out of Følge and ID-porten."), "info")
    return redirect(url_for("auth.sign_in", signed_out=1))


@bp.post("/sign-in/oidc/backchannel-logout")
@csrf.exempt
@limiter.limit("60 per minute")
def backchannel_logout() -> tuple[str, int]:
    """ID-porten ended a session: end the Følge sessions it started."""
    config = _settings()
    try:
        sid = oidc.logout_sid(config, request.form.get("logout_token", ""))
    except oidc.SignInProblem as exc:
        log.info("back-channel logout refused: %s", exc.detail)
        return "", 400
    ended = sessions.end_for_oidc_sid(sid)
    log.info("back-channel logout ended %d session(s)", ended)
    return "", 200


@bp.get("/sign-in/oidc/frontchannel-logout")
def frontchannel_logout() -> tuple[str, int, dict[str, str]]:
    """ID-porten's front-channel logout (an iframe): end the sessions of this ID-porten
    session id, when the issuer is ours."""
    config = _settings()
    sid = request.args.get("sid", "")
    if request.args.get("iss") == config.issuer and sid:
        sessions.end_for_oidc_sid(sid[:128])
    return "", 200, {"Cache-Control": "no-store"}


def sign_out_target(id_token: str | None, method: str = "idporten") -> str | None:
    """After Følge's own sign-out: ID-porten's (or HelseID's) end-session address, for a
    session that began there, else None."""
    config = oidc.settings("helseid" if method == "helseid" else "idporten")
    if config is None or not id_token:
        return None
    base = current_app.config["FOLGE"].public_base_url
    after = f"{base.rstrip('/')}{url_for('national_id.signed_out')}" if base else \
        url_for("national_id.signed_out", _external=True)
    try:
        return oidc.end_session_url(config, id_token, after, dpop=method == "helseid")
    except Exception:  # noqa: BLE001 - ID-porten unreachable: Følge's sign-out still holds
        log.exception("could not reach ID-porten for its logout")
        return None


# --- staff: the patient's national identity number -------------------------------------------

staff_bp = Blueprint("staff_national_id", __name__, url_prefix="/staff")


@staff_bp.route("/patients/<int:patient_id>/national-id", methods=["GET", "POST"])
def register_pid(patient_id: int) -> str | WerkzeugResponse:
    """Register the patient's fødselsnummer or D-number, so ID-porten finds the patient. It is
    validated, kept as a keyed hash, and shown masked."""
    from server import policy
    from server.models import AccessTarget
    from server.national_id.forms import PidForm

    if not current_app.config["FOLGE"].pid_key:  # numbers can be registered before ID-porten
        abort(404)                                 # is turned on, never without the key
    patient = policy.get_patient_or_404(patient_id, "manage_account", AccessTarget.ACCOUNT)
    form = PidForm()
    if form.validate_on_submit():
        try:
            pid.register(patient, form.pid.data or "")
        except pid.PidError as exc:
            form.pid.errors = [str(exc.message)]
        else:
            flash(_("Saved. The patient can sign in with ID-porten now."), "success")
            return redirect(url_for("staff.patient", patient_id=patient_id))
    return render_template("national_id/register.html", patient=patient, form=form)
