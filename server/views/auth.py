"""Signing in and out: SMS code or passkey for patients, password + TOTP for staff."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from server.extensions import limiter
from server.forms.auth import CodeForm, PhoneForm, StaffPasswordForm, TotpForm
from server.models import SignInMethod, SignInOutcome, User
from server.services import codes, passkeys, sessions, sign_in_log, staff_auth, trusted_devices
from server.services.devices import device_label
from server.services.errors import DomainError
from server.services.phone_numbers import InvalidPhoneNumber, display_mobile, normalize_mobile
from server.views.webauthn_context import expected_origins, rp_id

bp = Blueprint("auth", __name__)

ATTEMPT_KEY = "sign_in_attempt"
STAFF_PENDING_KEY = "staff_pending"
#: The page a session ended on, to come back to after signing in again (server/auth_setup.py).
RETURN_TO_KEY = "return_to"

# Rate limits (README, "Security"). They slow someone guessing or flooding from a few
# addresses without locking the owner out: per address, and per (number or email,
# address), tightly; per number only inside the code service (re-sends of the live code,
# which the owner already has); per email loosely, and not at all for a browser where
# that staff member signed in before.
CODE_REQUEST_LIMIT_PER_ADDRESS = "30 per hour"
CODE_REQUEST_LIMIT_PER_NUMBER_AND_ADDRESS = "5 per 15 minutes; 20 per day"
CODE_ENTRY_LIMIT_PER_ADDRESS = "30 per 15 minutes"
# (S105: rate limits of the password step, not passwords.)
PASSWORD_LIMIT_PER_ADDRESS = "30 per hour"  # noqa: S105
PASSWORD_LIMIT_PER_EMAIL_AND_ADDRESS = "5 per 15 minutes"  # noqa: S105
PASSWORD_LIMIT_PER_EMAIL = "10 per 15 minutes"  # noqa: S105
PASSWORD_LIMIT_PER_KNOWN_DEVICE = "10 per 15 minutes"  # noqa: S105
TOTP_LIMIT_PER_ADDRESS = "10 per 5 minutes"


def _address() -> str:
    return request.remote_addr or ""


def _phone_key() -> str:
    """Rate-limit key for code requests: the number asked for, from this address."""
    try:
        number = normalize_mobile(request.form.get("phone", ""))
    except InvalidPhoneNumber:
        number = "invalid"
    return f"phone:{number}|{_address()}"


def _email() -> str:
    return request.form.get("email", "").strip().lower()[:254]


def _email_key() -> str:
    return "email:" + _email()


def _email_address_key() -> str:
    return f"email:{_email()}|{_address()}"


def _known_device() -> tuple[int, str] | None:
    """The account and device id of this browser's device cookie, if valid."""
    return trusted_devices.read(request.cookies.get(trusted_devices.cookie_name()))


def _known_device_for_email() -> bool:
    """Does this browser carry a device cookie for the account of the email typed?"""
    device = _known_device()
    return device is not None and staff_auth.email_of(device[0]) == _email()


def _device_key() -> str:
    device = _known_device()
    return f"device:{device[1]}" if device else "device:none"


def home_for(user: User) -> str:
    """The landing page of each role."""
    if user.is_staff:
        return url_for("staff.home")
    if user.is_relative:
        return url_for("relative.home")
    return url_for("patient.home")


def landing_for(user: User) -> str:
    """Where a sign-in ends: back on the page the session ended on (server/auth_setup.py
    keeps it), when this person may open it, else their home."""
    path = session.pop(RETURN_TO_KEY, None)
    if isinstance(path, str) and path.startswith("/") and not path.startswith("//"):
        try:
            endpoint, _args = current_app.url_map.bind("localhost").match(
                path.split("?")[0], method="GET")
        except HTTPException:
            endpoint = ""
        from server import policy

        roles = policy.AREA_ROLES.get(str(endpoint).split(".")[0])
        if roles is not None and user.role in roles:
            return path
    return home_for(user)


def _begin_session(user: User, method: str = "sms_code", level: str = "low",
                   oidc_sid: str | None = None, id_token: str | None = None) -> None:
    """Sign in with a fresh session id; keep only the language, and the page to come back
    to, across. ``method`` and ``level`` are recorded on the session (server/models/session.py)."""
    lang = session.get("lang")
    back = session.get(RETURN_TO_KEY)
    session.clear()
    if lang:
        session["lang"] = lang
    if back:
        session[RETURN_TO_KEY] = back
    sessions.start(user, device_label(request.user_agent.string), method=method, level=level,
                   oidc_sid=oidc_sid, id_token=id_token)
    login_user(user)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(CODE_REQUEST_LIMIT_PER_NUMBER_AND_ADDRESS, key_func=_phone_key, methods=["POST"])
@limiter.limit(CODE_REQUEST_LIMIT_PER_ADDRESS, methods=["POST"])
def sign_in() -> str | WerkzeugResponse:
    """Step 1 for patients and relatives: the mobile number."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = PhoneForm()
    if request.method == "GET" and session.get("sign_in_phone"):
        form.phone.data = session["sign_in_phone"]
    if form.validate_on_submit():
        session[ATTEMPT_KEY] = codes.request_sign_in_code(form.normalized)
        session["sign_in_phone"] = display_mobile(form.normalized)
        return redirect(url_for("auth.enter_code"))
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(CODE_ENTRY_LIMIT_PER_ADDRESS, methods=["POST"])
def enter_code() -> str | WerkzeugResponse:
    """Step 2: the code from the SMS, checked against this browser's attempt only."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    if not session.get(ATTEMPT_KEY):
        flash(_("Write your mobile number first, and we will send you a code."), "info")
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            user = codes.sign_in_with_code(session.get(ATTEMPT_KEY), form.code.data or "")
        except codes.CodeError as exc:
            form.code.errors = [str(exc.message)]
        else:
            _begin_session(user)
            return redirect(landing_for(user))
    return render_template("auth/enter_code.html", form=form, phone=session.get("sign_in_phone"))


@bp.route("/staff/sign-in", methods=["GET", "POST"])
@limiter.limit(PASSWORD_LIMIT_PER_EMAIL, key_func=_email_key, methods=["POST"],
               exempt_when=_known_device_for_email)
@limiter.limit(PASSWORD_LIMIT_PER_KNOWN_DEVICE, key_func=_device_key, methods=["POST"],
               exempt_when=lambda: not _known_device_for_email())
@limiter.limit(PASSWORD_LIMIT_PER_EMAIL_AND_ADDRESS, key_func=_email_address_key,
               methods=["POST"])
@limiter.limit(PASSWORD_LIMIT_PER_ADDRESS, methods=["POST"])
def staff_sign_in() -> str | WerkzeugResponse:
    """Staff step 1: HelseID, or (where allowed) email and password."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    config = current_app.config["FOLGE"]
    form = StaffPasswordForm()
    if not config.staff_password_sign_in and request.method == "POST":
        abort(404)  # password sign-in is off here: HelseID only
    if form.validate_on_submit():
        try:
            user = staff_auth.check_password(form.email.data or "", form.password.data or "")
        except staff_auth.StaffSignInError as exc:
            form.password.errors = [str(exc.message)]
        else:
            session[STAFF_PENDING_KEY] = staff_auth.start_pending(user)
            return redirect(url_for("auth.staff_totp"))
    return render_template("auth/staff_sign_in.html", form=form)


@bp.route("/staff/sign-in/code", methods=["GET", "POST"])
@limiter.limit(TOTP_LIMIT_PER_ADDRESS, methods=["POST"])
def staff_totp() -> str | WerkzeugResponse:
    """Staff step 2: the TOTP code, counted per pending sign-in and per account."""
    if not current_app.config["FOLGE"].staff_password_sign_in:
        abort(404)
    pending = session.get(STAFF_PENDING_KEY)
    if not isinstance(pending, str) or not staff_auth.pending_is_open(pending):
        session.pop(STAFF_PENDING_KEY, None)
        flash(_("Sign in with your email and password first."), "info")
        return redirect(url_for("auth.staff_sign_in"))
    form = TotpForm()
    if form.validate_on_submit():
        try:
            user = staff_auth.verify_pending(pending, form.code.data or "")
        except staff_auth.StaffSignInError as exc:
            if exc.code != "gone":
                form.code.errors = [str(exc.message)]
            else:
                session.pop(STAFF_PENDING_KEY, None)
                flash(str(exc.message), "info")
                return redirect(url_for("auth.staff_sign_in"))
        else:
            _begin_session(user, method="password_totp")
            response = redirect(landing_for(user))
            _remember_device(response, user)
            return response
    return render_template("auth/staff_totp.html", form=form)


def _remember_device(response: WerkzeugResponse, user: User) -> None:
    """Give this browser a device cookie for ``user`` (see services/trusted_devices.py)."""
    production = current_app.config["FOLGE"].is_production
    response.set_cookie(trusted_devices.cookie_name(), trusted_devices.issue(user.id),
                        max_age=trusted_devices.MAX_AGE_DAYS * 86400, secure=production,
                        httponly=True, samesite="Strict", path="/")


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> WerkzeugResponse:
    """End the session on the server, so a copied cookie stops working too."""
    token = current_user.get_id()
    user_id = current_user.id
    row = sessions.current_row(token)
    id_token = row.id_token if row is not None else None
    method = row.method if row is not None else ""
    if token:
        sessions.end(token, "signed_out")
    sign_in_log.record_now(SignInMethod.SIGN_OUT, SignInOutcome.SUCCESS, user_id)
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    # A session that began at ID-porten ends there too (RP-initiated logout); ID-porten sends
    # the browser back to /signed-out, which goes on to the sign-in page below.
    from server.national_id.views import sign_out_target

    idporten = sign_out_target(id_token, method)
    if idporten:
        return redirect(idporten)
    flash(_("You are signed out."), "info")
    # The query flag tells the service worker to delete any copy kept on this phone.
    return redirect(url_for("auth.sign_in", signed_out=1))


@bp.route("/sign-in/passkey/options", methods=["POST"])
@limiter.limit("30 per 15 minutes")
def passkey_options() -> Response:
    """Challenge for signing in with a passkey."""
    options, challenge = passkeys.authentication_options(rp_id())
    session["passkey_auth_challenge"] = challenge.hex()
    return current_app.response_class(options, mimetype="application/json")


@bp.route("/sign-in/passkey", methods=["POST"])
@limiter.limit("30 per 15 minutes")
def passkey_finish() -> tuple[Response, int] | Response:
    """Check the passkey's answer and sign in."""
    challenge_hex = session.pop("passkey_auth_challenge", None)
    credential = request.get_json(silent=True)
    if not challenge_hex or not isinstance(credential, dict):
        return jsonify(error=_("Start again: choose “Sign in with passkey”.")), 400
    try:
        user, level = passkeys.finish_authentication(
            credential, bytes.fromhex(challenge_hex), rp_id(), expected_origins()
        )
    except DomainError as exc:
        return jsonify(error=str(exc.message)), 400
    _begin_session(user, method="passkey", level=level)
    return jsonify(redirect=landing_for(user))


@bp.post("/session/alive")
def keep_alive() -> WerkzeugResponse:
    """"Stay signed in": a signed-in request, which is what keeps a session alive; it
    answers how long the session may now stay idle."""
    return jsonify(idle_seconds=int(sessions.idle_limit(current_user.role).total_seconds()))
