#!/usr/bin/env bash
# `make test`: lint and type-check, start the local services on their own ports and data folders
# (never those of a running `make run`), run the whole pytest suite against them, stop them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# apt-get fails at once while another apt or dpkg (unattended-upgrades, another clone's first
# `make test`) holds its locks: wait for them, at most SAMOOH_APT_LOCK_TIMEOUT seconds.
APT_LOCK_TIMEOUT=${SAMOOH_APT_LOCK_TIMEOUT:-600}
APT_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock)
wait_for_apt() {
  local deadline=$(( $(date +%s) + APT_LOCK_TIMEOUT )) told=0
  # fuser answers 0 while any process has one of the lock files open (apt and dpkg keep them
  # open while they hold them)
  while fuser "${APT_LOCKS[@]}" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "[samooh] gave up after ${APT_LOCK_TIMEOUT} s waiting for another apt/dpkg to release its lock" >&2
      return 1
    fi
    if [ "$told" = 0 ]; then
      echo "[samooh] another apt/dpkg holds its lock: waiting (at most ${APT_LOCK_TIMEOUT} s)…" >&2
      told=1
    fi
    sleep 2
  done
}
# apt_install PACKAGE…: update the lists and install, each step waiting for the locks; apt's own
# DPkg::Lock::Timeout also covers a lock taken between our check and apt's.
apt_install() {
  wait_for_apt
  apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" update -qq >/dev/null
  wait_for_apt
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" \
    install -y -qq "$@" >/dev/null
}

# Browser tests drive Debian's Chromium (never a browser download).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "[samooh] installing Debian's chromium for the browser tests…" >&2
    apt_install chromium
  else
    echo "[samooh] chromium is missing: run 'sudo apt-get install -y chromium'" >&2
    exit 1
  fi
fi

# Report tests render PDF pages with Debian's poppler-utils (pdftoppm, pdftotext).
if ! command -v pdftoppm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "[samooh] installing Debian's poppler-utils for the report tests…" >&2
    apt_install poppler-utils
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
echo "[samooh] import contracts" >&2
.venv/bin/lint-imports --no-cache
echo "[samooh] bandit (medium severity and above)" >&2
.venv/bin/bandit -q -r app agents streams -ll

started=$(date +%s)
# Servers of this run only: another `make test` in the same clone gets its own.
instance="run$$"
trap '$PY scripts/services.py down --profile test --instance "$instance" >&2; rm -rf ".local/test-$instance"' EXIT
exports=$($PY scripts/services.py up --profile test --instance "$instance")
eval "$exports"
echo "[samooh] test services up in $(( $(date +%s) - started )) s" >&2

export SAMOOH_ENVIRONMENT=test SAMOOH_LOG_JSON=false
$PY -m pytest "$@"
