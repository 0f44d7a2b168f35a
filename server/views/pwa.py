"""The installable shell: manifest, service worker, icons and the offline page."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, send_from_directory
from flask_babel import force_locale

from server.assets import hashed_url
from server.config import PROJECT_ROOT
from server.locales import babel_locale
from server.models.user import LANGUAGES

bp = Blueprint("pwa", __name__)

PWA_DIR = PROJECT_ROOT / "pwa"
STATIC_DIR = PROJECT_ROOT / "static"

#: Files the service worker keeps for offline use: the app shell only, nothing personal.
SHELL_FILES = (
    "static/css/app.css",
    "static/js/app.js",
    "static/js/passkey.js",
    "static/js/push.js",
    "static/js/offline-copy.js",
    "static/js/offline-queue.js",
    "static/js/form-fields.js",
    "static/js/drafts.js",
    "static/js/idle.js",
    "pwa/icons/icon-192.png",
    "pwa/icons/icon-512.png",
    "pwa/icons/icon-maskable-512.png",
    "pwa/manifest.webmanifest",
)


def _shell_version() -> str:
    """A hash of the shell files and the worker, so any change installs a new worker."""
    cached = current_app.extensions.get("folge_shell_version")
    if cached is None:
        digest = hashlib.sha256()
        for name in (*SHELL_FILES, "pwa/sw.js", "templates/pwa/offline.html",
                     "templates/plans/_numbers.html"):
            digest.update(Path(PROJECT_ROOT, name).read_bytes())
        cached = digest.hexdigest()[:12]
        if not current_app.debug:
            current_app.extensions["folge_shell_version"] = cached
    return str(cached)


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    response = send_from_directory(PWA_DIR, "manifest.webmanifest",
                                   mimetype="application/manifest+json", max_age=3600)
    return response


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, at the root so its scope is the whole app; never cached."""
    source = (PWA_DIR / "sw.js").read_text(encoding="utf-8")
    body = source.replace("__SHELL_VERSION__", _shell_version())
    # The pages ask for the hashed names of static files (server/assets.py), and modules
    # import each other by their plain names: keep both.
    for name in SHELL_FILES:
        if name.startswith("static/"):
            plain = name.removeprefix("static/")
            body = body.replace(f'"/static/{plain}",',
                                f'"/static/{plain}", "{hashed_url(current_app, plain)}",')
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/icons/<path:filename>")
def icon(filename: str) -> Response:
    return send_from_directory(PWA_DIR / "icons", filename, max_age=86400)


@bp.get("/offline/<lang>")
def offline(lang: str) -> str:
    """The page the service worker shows when there is no network, per language."""
    if lang not in LANGUAGES:
        abort(404)
    with force_locale(babel_locale(lang)):
        return render_template("pwa/offline.html", lang=lang)
