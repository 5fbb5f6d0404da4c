#!/usr/bin/env bash
# `make test`: lint and type-check, start the local services on their own ports and data folders
# (never those of a running `make run`), run the whole pytest suite against them, stop them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# Browser tests drive Debian's Chromium (never a browser download).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "[samooh] installing Debian's chromium for the browser tests…" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "[samooh] chromium is missing: run 'sudo apt-get install -y chromium'" >&2
    exit 1
  fi
fi

# Report tests render PDF pages with Debian's poppler-utils (pdftoppm, pdftotext).
if ! command -v pdftoppm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "[samooh] installing Debian's poppler-utils for the report tests…" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
  else
    echo "[samooh] pdftoppm is missing: run 'sudo apt-get install -y poppler-utils'" >&2
    exit 1
  fi
fi

echo "[samooh] ruff" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "[samooh] mypy" >&2
.venv/bin/mypy

started=$(date +%s)
# Servers of this run only: another `make test` in the same clone gets its own.
instance="run$$"
trap '$PY scripts/services.py down --profile test --instance "$instance" >&2; rm -rf ".local/test-$instance"' EXIT
exports=$($PY scripts/services.py up --profile test --instance "$instance")
eval "$exports"
echo "[samooh] test services up in $(( $(date +%s) - started )) s" >&2

export SAMOOH_ENVIRONMENT=test SAMOOH_LOG_JSON=false
$PY -m pytest "$@"
