"""Typed configuration, read once from the environment.

Every setting has one environment variable (listed in README.md).
Production is the default: a process started with no ``FOLGE_ENV`` (a bare
``gunicorn wsgi:app``) is a production process, and it refuses to start
without a secret key, a data key, a database URL and the public URL. The
development mode, with its sign-in codes on ``/dev/outbox``, needs an
explicit ``FOLGE_ENV=development`` (``scripts/run-demo.sh`` sets it); its
keys are generated into ``instance/`` on first run and never committed.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

ENVIRONMENTS = ("development", "production", "testing")

#: Push services of the big browsers (host suffixes): Chrome and Edge on Android (FCM),
#: Firefox (Mozilla autopush), Edge on Windows (WNS) and Safari (Apple).
DEFAULT_PUSH_HOSTS = ("fcm.googleapis.com", "android.googleapis.com",
                      "push.services.mozilla.com", "notify.windows.com", "push.apple.com")


class ConfigError(RuntimeError):
    """A configuration problem that must stop start-up."""


@dataclass(frozen=True)
class ServiceInfo:
    """Who runs this Følge, for the privacy notice, the accessibility statement and the
    complaint steps on decisions. Set per deployment; the defaults are national facts
    (the ombudsman's number) or say "the health trust of your clinic"."""

    #: The data controller (behandlingsansvarlig). Empty: the health trust of the clinic.
    controller: str = ""
    #: The data processor (databehandler) that runs the servers.
    processor: str = ""
    #: Where to ask about privacy (the data protection officer), e.g. an email address.
    privacy_contact: str = ""
    #: Where to report an accessibility problem.
    accessibility_contact: str = ""
    #: The county governor that handles complaints about the clinic's decisions.
    statsforvalter_name: str = "Statsforvalteren"
    statsforvalter_phone: str = ""
    statsforvalter_url: str = "https://www.statsforvalteren.no/"
    #: Pasient- og brukerombudet: one national number that reaches every office.
    ombud_phone: str = "40 50 16 00"
    ombud_url: str = "https://www.pasientogbrukerombudet.no/"


#: The assurance levels ID-porten signs in at, lowest first.
IDPORTEN_LEVELS = ("idporten-loa-substantial", "idporten-loa-high")


@dataclass(frozen=True)
class OidcSettings:
    """One OpenID provider Følge signs people in with (ID-porten, later HelseID)."""

    issuer: str
    client_id: str
    #: The client's private keys as a JWKS (JSON); the first signs, the others are kept
    #: registered while a key is rotated.
    jwks: str
    #: The level asked for and required (ID-porten: idporten-loa-substantial or -high).
    acr: str = IDPORTEN_LEVELS[0]


@dataclass(frozen=True)
class Config:
    """All settings of one Følge instance. Frozen: read once, never mutated."""

    env: str
    secret_key: str
    database_url: str
    #: Idle limits per role and the absolute limit for every session.
    patient_idle_minutes: int = 30
    staff_idle_minutes: int = 15
    session_max_hours: int = 12
    ratelimit_storage_uri: str = "memory://"
    ratelimit_enabled: bool = True
    #: WebAuthn relying party id; empty means "the host name of the request".
    webauthn_rp_id: str = ""
    #: Allowed WebAuthn origins; empty means "the origin of the request".
    webauthn_origins: tuple[str, ...] = ()
    #: Number of trusted reverse proxies in front of the app (X-Forwarded-*).
    proxy_count: int = 0
    sms_provider: str = "dev"
    #: Twilio account for FOLGE_SMS_PROVIDER=twilio; the base URL can point at a test double.
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_base_url: str = ""
    #: Webhook parameters Twilio has started to send that server/notify/twilio_webhook.py
    #: does not know yet (accepted as short free text).
    twilio_extra_params: tuple[str, ...] = ()
    #: Public URL of this app, e.g. https://folge.example.no. Every link that leaves the app
    #: (SMS, email, letter, push, provider callbacks) is built on it, never on the Host header.
    public_base_url: str = ""
    #: Host names the app answers to (Flask's TRUSTED_HOSTS); empty means any. In production
    #: the default is the host of the public URL.
    trusted_hosts: tuple[str, ...] = ()
    #: Keys that encrypt secrets at rest (TOTP seeds): Fernet keys, newest first.
    data_keys: tuple[str, ...] = ()
    #: Push services a subscription may point at (host suffixes).
    push_hosts: tuple[str, ...] = DEFAULT_PUSH_HOSTS
    #: Tests only: let push go to a local receiver on loopback (never read from the environment).
    push_allow_loopback: bool = False
    #: VAPID keys for web push (`flask --app wsgi vapid-keys` makes a pair; development
    #: generates one into instance/). The subject is a mailto: or https: URL.
    vapid_private_key: str = ""
    vapid_public_key: str = ""
    vapid_subject: str = "mailto:drift@folge.invalid"
    #: How long a push service keeps an undelivered notification (seconds), and HTTP timeout.
    push_ttl_seconds: int = 12 * 3600
    push_timeout_seconds: int = 10
    #: Email for invitations to relatives: "dev" (stored, shown on /dev/outbox) or "smtp".
    email_provider: str = "dev"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    email_from: str = "Følge <ikke-svar@folge.invalid>"
    #: A folder of extra feedback instruments (JSON files, see server/instruments/).
    instruments_dir: str = ""
    service: ServiceInfo = field(default_factory=lambda: ServiceInfo())
    #: Compress HTML and JSON in the app (Brotli or gzip). Turn off when a proxy in front
    #: compresses. Static files are precompressed either way (server/assets.py).
    compress: bool = True
    #: ID-porten for patients and relatives (None: not offered).
    idporten: OidcSettings | None = None
    #: HelseID for staff (None: not offered).
    helseid: OidcSettings | None = None
    #: Staff may sign in with email, password and TOTP (development and clinics without
    #: HelseID); off by default in production.
    staff_password_sign_in: bool = True
    #: The key of the keyed hash (HMAC-SHA256) of national identity numbers.
    pid_key: str = ""
    #: The FHIR interface (server/fhir): the issuer of the record systems' access tokens
    #: (HelseID, or the test provider), empty when the interface is off ...
    fhir_issuer: str = ""
    #: ... and the audience the tokens must be for (default: the public URL + /fhir).
    fhir_audience: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    def engine_options(self) -> dict[str, object]:
        """SQLAlchemy engine options. SQLite waits up to 30 s for a lock, because the web
        server and the worker write to the same file."""
        if self.database_url.startswith("sqlite"):
            return {"connect_args": {"timeout": 30}}
        return {"pool_pre_ping": True}

    def flask_settings(self) -> dict[str, object]:
        """The subset handed to ``app.config``."""
        prod = self.is_production
        settings: dict[str, object] = {
            "ENV_NAME": self.env,
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": self.engine_options(),
            "SESSION_COOKIE_NAME": "__Host-folge" if prod else "folge_session",
            "SESSION_COOKIE_SECURE": prod,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_DURATION": 0,
            "PERMANENT_SESSION_LIFETIME": self.session_max_hours * 3600,
            "WTF_CSRF_TIME_LIMIT": None,  # the session's own limits apply
            "BABEL_DEFAULT_LOCALE": "nb",
            "BABEL_DEFAULT_TIMEZONE": "Europe/Oslo",
            "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_uri,
            "RATELIMIT_ENABLED": self.ratelimit_enabled,
            "RATELIMIT_HEADERS_ENABLED": True,
            "TRUSTED_HOSTS": list(self.trusted_hosts) or None,
            # Pages and JSON; CSS and JS are precompressed files (server/assets.py). A page
            # with a CSRF token is compressed too: BREACH needs the victim's cookie on
            # requests an attacker starts, and SameSite=Lax keeps it off cross-site ones.
            "COMPRESS_MIMETYPES": ["text/html", "application/json", "text/javascript"],
            "COMPRESS_ALGORITHM": ["br", "gzip"],
            "COMPRESS_MIN_SIZE": 500,
            "FOLGE": self,
        }
        settings.update(self.extra)
        return settings


def _int(env_vars: Mapping[str, str], name: str, default: int) -> int:
    raw = env_vars.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _dev_secret_key() -> str:
    """Read or create the development secret key in instance/ (git-ignored)."""
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _dev_data_key() -> str:
    """Read or create the development data key in instance/ (git-ignored)."""
    from cryptography.fernet import Fernet

    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "data_key"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


def _check_data_keys(keys: tuple[str, ...]) -> None:
    from cryptography.fernet import Fernet

    for key in keys:
        try:
            Fernet(key)
        except ValueError as exc:
            raise ConfigError(
                "FOLGE_DATA_KEY must be Fernet keys (32 bytes, urlsafe base64), newest first and "
                "comma-separated; make one with: flask --app wsgi data-key") from exc


def _public_base_url(env: str, env_vars: Mapping[str, str]) -> str:
    """The public URL: required in production, the demo's own address in development."""
    raw = env_vars.get("FOLGE_PUBLIC_BASE_URL", "").strip().rstrip("/")
    if raw:
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or \
                parts.query or parts.fragment:
            raise ConfigError(f"FOLGE_PUBLIC_BASE_URL must be a URL such as "
                              f"https://folge.example.no, got {raw!r}")
        if env == "production" and parts.scheme != "https":
            raise ConfigError("FOLGE_PUBLIC_BASE_URL must be https:// in production.")
        return raw
    if env == "production":
        raise ConfigError(
            "FOLGE_PUBLIC_BASE_URL is not set. Production refuses to start without it: every link "
            "in an SMS, email or letter is built on it (e.g. https://folge.example.no).")
    if env == "development":
        return f"http://127.0.0.1:{env_vars.get('PORT', '') or '8000'}"
    return "http://localhost"


def _list(env_vars: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in env_vars.get(name, "").split(",") if v.strip())


def _dev_vapid_keys() -> tuple[str, str]:
    """Read or create a development VAPID key pair in instance/ (git-ignored)."""
    import json

    path = INSTANCE_DIR / "vapid.json"
    if not path.exists():
        from server.notify.webpush import generate_vapid_keys

        private, public = generate_vapid_keys()
        INSTANCE_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps({"private": private, "public": public}))
        path.chmod(0o600)
    keys = json.loads(path.read_text())
    return str(keys["private"]), str(keys["public"])


def _idporten(env: str, env_vars: Mapping[str, str]) -> OidcSettings | None:
    """ID-porten's settings, or None when FOLGE_IDPORTEN_ISSUER is not set."""
    acr = env_vars.get("FOLGE_IDPORTEN_ACR", IDPORTEN_LEVELS[0])
    if acr not in IDPORTEN_LEVELS:
        raise ConfigError(f"FOLGE_IDPORTEN_ACR must be one of {', '.join(IDPORTEN_LEVELS)}.")
    return _provider(env, env_vars, "IDPORTEN", acr)


def _provider(env: str, env_vars: Mapping[str, str], name: str, acr: str) -> OidcSettings | None:
    """An OpenID provider's settings from FOLGE_<name>_ISSUER, _CLIENT_ID and _JWKS."""
    issuer = env_vars.get(f"FOLGE_{name}_ISSUER", "").rstrip("/")
    if not issuer:
        return None
    client_id = env_vars.get(f"FOLGE_{name}_CLIENT_ID", "")
    jwks = env_vars.get(f"FOLGE_{name}_JWKS", "")
    if not client_id or not jwks:
        raise ConfigError(f"FOLGE_{name}_CLIENT_ID and FOLGE_{name}_JWKS must be set with "
                          f"FOLGE_{name}_ISSUER.")
    bad_keys = ConfigError(f"FOLGE_{name}_JWKS must be a JWKS of private keys, each with a "
                           "kid (the first signs).")
    try:
        keys = json.loads(jwks)["keys"]
    except (ValueError, KeyError, TypeError):
        raise bad_keys from None
    if not keys or not all(isinstance(k, dict) and k.get("kid") and k.get("d") for k in keys):
        raise bad_keys
    if env == "production" and not issuer.startswith("https://"):
        raise ConfigError(f"FOLGE_{name}_ISSUER must be an https:// address in production.")
    return OidcSettings(issuer=issuer, client_id=client_id, jwks=jwks, acr=acr)


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from the environment (``FOLGE_*`` variables)."""
    env_vars: Mapping[str, str] = os.environ if environ is None else environ
    env = env_vars.get("FOLGE_ENV", "") or "production"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"FOLGE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    try:
        return _load(env, env_vars)
    except ConfigError as exc:
        if env_vars.get("FOLGE_ENV"):
            raise
        raise ConfigError(f"{exc} (FOLGE_ENV is not set, so this is a production start; for "
                          "the demo run scripts/run-demo.sh or set FOLGE_ENV=development)") from None


def _load(env: str, env_vars: Mapping[str, str]) -> Config:
    secret = env_vars.get("FOLGE_SECRET_KEY", "")
    if not secret:
        if env == "production":
            raise ConfigError(
                "FOLGE_SECRET_KEY is not set. Production refuses to start without a secret key; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        secret = _dev_secret_key()
    if env == "production" and len(secret) < 32:
        raise ConfigError("FOLGE_SECRET_KEY is too short: use at least 32 random characters.")
    default_db = f"sqlite:///{INSTANCE_DIR / 'folge.sqlite3'}"
    database_url = env_vars.get("FOLGE_DATABASE_URL", "")
    if not database_url:
        if env == "production":
            raise ConfigError("FOLGE_DATABASE_URL is not set (a postgresql+psycopg:// URL).")
        INSTANCE_DIR.mkdir(exist_ok=True)
        database_url = default_db
    data_keys = _list(env_vars, "FOLGE_DATA_KEY")
    if not data_keys:
        if env == "production":
            raise ConfigError(
                "FOLGE_DATA_KEY is not set. Production refuses to start without the key that "
                "encrypts secrets at rest; make one with: flask --app wsgi data-key")
        if env == "development":
            data_keys = (_dev_data_key(),)
    _check_data_keys(data_keys)
    public_base_url = _public_base_url(env, env_vars)
    trusted_hosts = _list(env_vars, "FOLGE_TRUSTED_HOSTS")
    if not trusted_hosts and env == "production":
        trusted_hosts = (str(urlsplit(public_base_url).hostname),)
    push_hosts = tuple(h.lower().lstrip(".") for h in _list(env_vars, "FOLGE_PUSH_HOSTS")) \
        or DEFAULT_PUSH_HOSTS
    origins = tuple(o for o in env_vars.get("FOLGE_WEBAUTHN_ORIGINS", "").split(",") if o)
    idporten = _idporten(env, env_vars)
    helseid = _provider(env, env_vars, "HELSEID", "")
    password_default = "0" if env == "production" else "1"
    staff_password = env_vars.get("FOLGE_STAFF_PASSWORD_SIGN_IN", password_default) == "1"
    if env == "production" and not staff_password and helseid is None:
        raise ConfigError("Staff could not sign in: set FOLGE_HELSEID_ISSUER (HelseID), or "
                          "FOLGE_STAFF_PASSWORD_SIGN_IN=1 for password and TOTP.")
    pid_key = env_vars.get("FOLGE_PID_KEY", "")
    if (idporten is not None or helseid is not None or pid_key) and len(pid_key) < 32:
        raise ConfigError("FOLGE_PID_KEY must be set (at least 32 random characters) when "
                          "ID-porten is configured: national identity numbers are matched by "
                          "a keyed hash, never stored.")
    fhir_issuer = env_vars.get("FOLGE_FHIR_ISSUER", "").rstrip("/")
    if env == "production" and fhir_issuer and not fhir_issuer.startswith("https://"):
        raise ConfigError("FOLGE_FHIR_ISSUER must be an https:// address in production.")
    fhir_audience = env_vars.get("FOLGE_FHIR_AUDIENCE", "") or (
        f"{public_base_url.rstrip('/')}/fhir" if public_base_url else "")
    vapid_private = env_vars.get("FOLGE_VAPID_PRIVATE_KEY", "")
    vapid_public = env_vars.get("FOLGE_VAPID_PUBLIC_KEY", "")
    if not vapid_private and env == "development":
        vapid_private, vapid_public = _dev_vapid_keys()
    return Config(
        env=env,
        secret_key=secret,
        database_url=database_url,
        patient_idle_minutes=_int(env_vars, "FOLGE_PATIENT_IDLE_MINUTES", 30),
        staff_idle_minutes=_int(env_vars, "FOLGE_STAFF_IDLE_MINUTES", 15),
        session_max_hours=_int(env_vars, "FOLGE_SESSION_MAX_HOURS", 12),
        ratelimit_storage_uri=env_vars.get("FOLGE_RATELIMIT_STORAGE_URI", "memory://"),
        webauthn_rp_id=env_vars.get("FOLGE_WEBAUTHN_RP_ID", ""),
        webauthn_origins=origins,
        proxy_count=_int(env_vars, "FOLGE_PROXY_COUNT", 0) if env_vars.get("FOLGE_PROXY_COUNT")
        else 0,
        sms_provider=env_vars.get("FOLGE_SMS_PROVIDER", "dev"),
        twilio_account_sid=env_vars.get("FOLGE_TWILIO_ACCOUNT_SID", ""),
        twilio_auth_token=env_vars.get("FOLGE_TWILIO_AUTH_TOKEN", ""),
        twilio_from_number=env_vars.get("FOLGE_TWILIO_FROM", ""),
        twilio_base_url=env_vars.get("FOLGE_TWILIO_BASE_URL", ""),
        twilio_extra_params=_list(env_vars, "FOLGE_TWILIO_EXTRA_PARAMS"),
        public_base_url=public_base_url,
        idporten=idporten,
        helseid=helseid,
        staff_password_sign_in=staff_password,
        pid_key=pid_key,
        fhir_issuer=fhir_issuer,
        fhir_audience=fhir_audience,
        trusted_hosts=trusted_hosts,
        data_keys=data_keys,
        push_hosts=push_hosts,
        vapid_private_key=vapid_private,
        vapid_public_key=vapid_public,
        vapid_subject=env_vars.get("FOLGE_VAPID_SUBJECT", "mailto:drift@folge.invalid"),
        push_ttl_seconds=_int(env_vars, "FOLGE_PUSH_TTL_SECONDS", 12 * 3600),
        push_timeout_seconds=_int(env_vars, "FOLGE_PUSH_TIMEOUT_SECONDS", 10),
        instruments_dir=env_vars.get("FOLGE_INSTRUMENTS_DIR", ""),
        email_provider=env_vars.get("FOLGE_EMAIL_PROVIDER", "dev"),
        smtp_host=env_vars.get("FOLGE_SMTP_HOST", ""),
        smtp_port=_int(env_vars, "FOLGE_SMTP_PORT", 587),
        smtp_user=env_vars.get("FOLGE_SMTP_USER", ""),
        smtp_password=env_vars.get("FOLGE_SMTP_PASSWORD", ""),
        email_from=env_vars.get("FOLGE_EMAIL_FROM", "Følge <ikke-svar@folge.invalid>"),
        service=_service(env, env_vars),
        compress=env_vars.get("FOLGE_COMPRESS", "1") not in ("0", "false", "no"),
    )


def _service(env: str, env_vars: Mapping[str, str]) -> ServiceInfo:
    """FOLGE_DATA_CONTROLLER, FOLGE_DATA_PROCESSOR, FOLGE_PRIVACY_CONTACT,
    FOLGE_ACCESSIBILITY_CONTACT and FOLGE_STATSFORVALTER_NAME / _PHONE / _URL. The demo
    names the county governor of Oslo and Viken, where its clinics are."""
    defaults = ServiceInfo()
    demo = env != "production"
    return ServiceInfo(
        controller=env_vars.get("FOLGE_DATA_CONTROLLER", ""),
        processor=env_vars.get("FOLGE_DATA_PROCESSOR", ""),
        privacy_contact=env_vars.get("FOLGE_PRIVACY_CONTACT", ""),
        accessibility_contact=env_vars.get("FOLGE_ACCESSIBILITY_CONTACT", ""),
        statsforvalter_name=env_vars.get("FOLGE_STATSFORVALTER_NAME", "") or (
            "Statsforvalteren i Oslo og Viken" if demo else defaults.statsforvalter_name),
        statsforvalter_phone=env_vars.get("FOLGE_STATSFORVALTER_PHONE", "") or (
            "22 00 35 00" if demo else ""),
        statsforvalter_url=env_vars.get("FOLGE_STATSFORVALTER_URL", "") or (
            "https://www.statsforvalteren.no/oslo-og-viken/" if demo
            else defaults.statsforvalter_url),
    )
