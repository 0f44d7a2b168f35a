#!/usr/bin/env bash
# Translation workflow (flask-babel / Babel):
#   scripts/translations.sh extract [FILE]  write the message template (default translations/messages.pot)
#   scripts/translations.sh update          extract, then merge new messages into nb, nn and en
#   scripts/translations.sh compile         build the .mo files the app reads
# tests/test_i18n.py fails when messages.pot is stale or a catalog misses a translation.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}

extract() {
  # --ignore-dirs: Babel skips folders starting with "_" by default, which would leave out
  # templates/_macros (whose texts then never reach the catalogs).
  "$PYBABEL" -q extract -F translations/babel.cfg -k _l -k lazy_gettext \
    --ignore-dirs=".* __pycache__ node_modules instance" \
    --add-comments=Translators: --no-location --sort-output --omit-header \
    -o "${1:-translations/messages.pot}" .
}

case "${1:-}" in
  extract) extract "${2:-}" ;;
  update)
    extract
    "$PYBABEL" -q update -i translations/messages.pot -d translations --ignore-obsolete \
      --no-fuzzy-matching
    ;;
  compile) "$PYBABEL" -q compile -d translations ;;
  *) echo "usage: $0 extract [FILE] | update | compile" >&2; exit 2 ;;
esac
