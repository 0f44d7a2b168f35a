"""The baseline for bench/home_latency.py: a bare Flask app that answers "ok".

No extensions, no database, no templates. Served by gunicorn as
``bare_app:app`` (with ``--pythonpath bench``).
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> tuple[str, int, dict[str, str]]:
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/healthz")
def health() -> tuple[str, int, dict[str, str]]:
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
