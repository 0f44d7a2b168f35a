#!/usr/bin/env bash
# Sets up and runs Følge on the embedded default (SQLite) with demo data, at
# http://127.0.0.1:$PORT (8000 unless PORT is set). No root needed. Safe to run again: migrations and
# demo data are applied only once.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -c constraints.txt -e .
bash scripts/translations.sh compile
export FOLGE_ENV=${FOLGE_ENV:-development}
export PORT=${PORT:-8000}
.venv/bin/flask --app wsgi migrate
.venv/bin/flask --app wsgi seed-demo
cat <<INFO

Følge runs on http://127.0.0.1:${PORT}  (use http://localhost:${PORT} to try passkeys)
  Patient (app):        912 34 567  -> the code is on http://127.0.0.1:${PORT}/dev/outbox
                        (that page also lets you answer reminders by SMS: JA, NEI, RING, STOPP)
  Patient (SMS only):   923 45 678
  Patient (letters):    Per Olsen, no number (staff see him)
  Other clinic patient: 934 56 789
  Relative (Kari's sister Rita): 945 67 890
  Staff (password demo-passord-2026, then the TOTP code from:
         FOLGE_ENV=development .venv/bin/flask --app wsgi totp-code EMAIL)
    lege@demo.folge.test         doctor,      Demo LAR-poliklinikk
    koordinator@demo.folge.test  coordinator, Demo LAR-poliklinikk
    admin@demo.folge.test        clinic admin, Demo LAR-poliklinikk (take-home rules)
    ansatt@vestbyen.folge.test   nurse,       Demo Vestbyen poliklinikk
    lege2@demo.folge.test        doctor,      Demo LAR-poliklinikk (a handover waits for him)
    lege@vestbyen.folge.test     doctor,      Demo Vestbyen poliklinikk
    koordinator@vestbyen.folge.test coordinator, Demo Vestbyen poliklinikk

INFO
# One outbox worker next to the web server delivers reminders and messages.
.venv/bin/flask --app wsgi worker --poll 2 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
.venv/bin/flask --app wsgi run --host 127.0.0.1 --port "$PORT" --no-reload
