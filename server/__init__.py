"""The Følge application factory.

``create_app`` wires configuration, extensions, blueprints, error handlers,
security headers and CLI commands. It does no I/O: no tables are created,
no migrations run, nothing is sent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from server.config import PROJECT_ROOT, Config, load_config
from server.extensions import babel, compress, csrf, db, limiter, login_manager, talisman
from server.locales import babel_locale, install_template_gettext
from server.models.user import LANGUAGES

#: Content Security Policy: no inline script, nothing from other hosts.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "manifest-src": "'self'",
    "worker-src": "'self'",
    "form-action": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def _csp(config: Config) -> dict[str, str]:
    """The policy for this instance: signing out may hand the browser on to ID-porten's
    end-session page (a form's redirect to another origin needs form-action)."""
    policy = dict(CSP)
    if config.idporten is not None:
        issuer = urlsplit(config.idporten.issuer)
        policy["form-action"] = f"'self' {issuer.scheme}://{issuer.netloc}"
    return policy


def select_locale() -> str:
    """The account's language, else the one picked this visit, else the browser's.
    Outside a request (the worker, a thread) it is Bokmål unless force_locale says else."""
    if not has_request_context():
        return "nb"
    return babel_locale(_chosen_language())


def _chosen_language() -> str:
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return str(current_user.language)
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    for value, _quality in request.accept_languages:
        primary = value.split("-")[0].split("_")[0].lower()
        if primary in ("no", "nb"):
            return "nb"
        if primary in LANGUAGES:
            return primary
    return "nb"


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    """WAL lets the worker write while pages read; foreign keys as on PostgreSQL."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_app(config: Config | None = None) -> Flask:
    """Build a configured Følge app."""
    config = config or load_config()
    app = Flask(
        __name__,
        static_folder=str(PROJECT_ROOT / "static"),
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_mapping(config.flask_settings())
    if config.proxy_count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.proxy_count, x_proto=config.proxy_count,
            x_host=config.proxy_count,
        )

    db.init_app(app)
    if config.database_url.startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    talisman.init_app(
        app,
        content_security_policy=_csp(config),
        force_https=config.is_production,
        strict_transport_security=config.is_production,
        strict_transport_security_max_age=31536000,
        session_cookie_secure=config.is_production,
        session_cookie_http_only=True,
        referrer_policy="no-referrer",
        frame_options="DENY",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )

    if config.compress:
        compress.init_app(app)
    from server import assets, auth_setup, errors, web

    assets.init_app(app)

    auth_setup.init_app(app)
    web.init_app(app)
    errors.init_app(app)
    _register_blueprints(app, config)

    from server import cli

    cli.init_app(app)
    return app


def _register_blueprints(app: Flask, config: Config) -> None:
    from server.care_team import staff_views as team_staff_views
    from server.care_team import views as team_views
    from server.messages import staff_views as messages_staff_views
    from server.messages import views as messages_views
    from server.views import (
        account,
        appointments,
        auth,
        feedback,
        i18n,
        invite,
        main,
        patient,
        pwa,
        relative,
        relatives,
        reminders,
        signed_in,
        staff,
        staff_appointments,
        staff_feedback,
        staff_relatives,
        staff_take_home,
        take_home,
        webhooks,
        worklist,
    )

    for module in (main, auth, patient, appointments, reminders, take_home, feedback, relatives,
                   relative, invite, account, staff, staff_appointments, staff_take_home,
                   staff_feedback, staff_relatives, worklist, i18n, pwa, webhooks, signed_in,
                   team_views, team_staff_views, messages_views, messages_staff_views):
        app.register_blueprint(module.bp)
    app.register_blueprint(team_views.relative_bp)
    from server.fhir import views as fhir_views
    from server.national_id import views as national_id_views
    from server.plans import goal_views
    from server.plans import views as plan_views

    app.register_blueprint(national_id_views.bp)
    app.register_blueprint(fhir_views.bp)
    app.register_blueprint(national_id_views.staff_bp)

    for blueprint in (plan_views.bp, plan_views.relative_bp, plan_views.staff_bp, goal_views.bp,
                      goal_views.staff_bp):
        app.register_blueprint(blueprint)
    if config.is_development:
        from server.views import dev

        app.register_blueprint(dev.bp)


__all__ = ["create_app"]
