#!/usr/bin/env bash
# Install everything the tests need, then run the whole suite: lint, types, layering, pytest.
# Used by the README and by .ci/run. Needs root (or sudo) only to install Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the browser tests"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# Documents: WeasyPrint lays out PDFs with Pango (libpango-1.0-0, libpangoft2-1.0-0); the tests
# render PDF pages to PNG and read their text with poppler-utils (pdftoppm, pdftotext).
MISSING=""
command -v pdftoppm >/dev/null 2>&1 || MISSING="$MISSING poppler-utils"
ldconfig -p | grep -q 'libpango-1.0.so' || MISSING="$MISSING libpango-1.0-0"
ldconfig -p | grep -q 'libpangoft2-1.0.so' || MISSING="$MISSING libpangoft2-1.0-0"
if [ -n "$MISSING" ]; then
    echo "== installing Debian's$MISSING for the documents"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
fi

# GRAPHFRAUD_SKIP_INSTALL=1 runs the suite against what is installed (a second checkout that
# imports itself through PYTHONPATH must not re-point the editable install at itself).
if [ "${GRAPHFRAUD_SKIP_INSTALL:-}" != 1 ]; then
    echo "== installing graphfraud with its test extras"
    python3 -m pip install --quiet --disable-pip-version-check -e '.[dev]'
fi

echo "== ruff"
python3 -m ruff check .
python3 -m ruff format --check .
echo "== mypy"
python3 -m mypy
echo "== pytest"
# pytest exits 5 when no test ran: under `set -e` that fails the run, as it should.
python3 -m pytest "$@"
