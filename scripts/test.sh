#!/usr/bin/env bash
# Sets up and runs the whole Følge test suite on a fresh Debian/Ubuntu machine:
#   1. installs what is missing (as root via apt-get: postgresql, chromium, chromium-driver, npm),
#   2. creates .venv and installs the project with its [dev] extras at the tested versions
#      (constraints.txt), then runs ruff (with its security rules) and bandit,
#   3. compiles the translations and installs axe-core (accessibility), FHIR.js (FHIR checks)
#      and oidc-provider (a real OpenID provider for the ID-porten tests),
#   4. starts a throw-away PostgreSQL cluster,
#   5. runs the suite on SQLite and on PostgreSQL, side by side (one per core).
# Without root, missing system packages stop the run with the command to install them.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

echo "==> Python environment"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
bash scripts/translations.sh compile

echo "==> Static checks (ruff, including its security rules; bandit)"
.venv/bin/ruff check .
.venv/bin/bandit -q -c pyproject.toml -ll -r .

echo "==> axe-core, FHIR.js (the independent FHIR validator) and oidc-provider (the test OpenID provider)"
(cd tests/browser && npm ci --silent --no-audit --no-fund)
(cd tests/fhir && npm ci --silent --no-audit --no-fund)
(cd tests/oidc && npm ci --silent --no-audit --no-fund)

echo "==> PostgreSQL"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PG_DIR=$(mktemp -d /tmp/folge-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$PG_DIR"
  as_pg=(runuser -u postgres --)
fi
cleanup() { jobs -p | xargs -r kill 2>/dev/null || true; "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PG_DIR"; }
trap cleanup EXIT
"${as_pg[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 >/dev/null
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
  -o "-c listen_addresses='' -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
"${as_pg[@]}" "$PG_BIN/createdb" -h "$PG_DIR" -U postgres folge_test
PG_URL="postgresql+psycopg://postgres@/folge_test?host=$PG_DIR"

# The two runs are independent (their own databases, ports and browsers), so they run side
# by side, one per core, and print their output one after the other.
echo "==> Tests on SQLite and on PostgreSQL, side by side"
# The browser crawl (tests/browser/test_crawl.py) checks layout and words, which do not
# depend on the database: each role is crawled once, most on SQLite, those marked crawl_pg on
# PostgreSQL, so the two halves take about as long.
.venv/bin/pytest -p no:cacheprovider -m "not crawl_pg" "$@" >"$PG_DIR/sqlite.log" 2>&1 &
sqlite_run=$!
FOLGE_TEST_DATABASE_URL="$PG_URL" .venv/bin/pytest -p no:cacheprovider -m "not crawl or crawl_pg" "$@" \
  >"$PG_DIR/postgresql.log" 2>&1 &
pg_run=$!
sqlite_rc=0
pg_rc=0
wait "$sqlite_run" || sqlite_rc=$?
wait "$pg_run" || pg_rc=$?
echo "==> Tests on SQLite (exit $sqlite_rc)"
cat "$PG_DIR/sqlite.log"
echo "==> Tests on PostgreSQL (exit $pg_rc)"
cat "$PG_DIR/postgresql.log"
[ "$sqlite_rc" = 0 ] && [ "$pg_rc" = 0 ]
