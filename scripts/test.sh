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
external_mongodb=${MONGODB_URL:-}
exports=$($PY scripts/services.py up --profile test --instance "$instance")
eval "$exports"
# This run's own MongoDB server goes, data and all, when the run ends: the test processes leave
# their databases in it instead of dropping them. A drop deletes every key under a server-wide
# lock (docs/local-services.md): a session's database took tens of seconds, and every other
# test process stalled behind it. A server named in MONGODB_URL is someone else's: dropped.
if [ -z "$external_mongodb" ]; then
  export SAMOOH_TEST_KEEP_DATABASES=1
fi
echo "[samooh] test services up in $(( $(date +%s) - started )) s" >&2

export SAMOOH_ENVIRONMENT=test SAMOOH_LOG_JSON=false
if [ $# -gt 0 ]; then
  # Named tests: one pytest process (more with SAMOOH_TEST_WORKERS), as asked.
  if [ -n "${SAMOOH_TEST_WORKERS:-}" ]; then
    set -- -n "$SAMOOH_TEST_WORKERS" --dist loadfile "$@"
  fi
  $PY -m pytest "$@"
  exit $?
fi

# The whole suite, in two parts side by side on the same servers (tests/conftest.py):
#   live   the tests that drive a running web server and worker (browser tests among them);
#   quiet  the tests that call services in-process and assume no worker acts on their data.
# Each part runs in SAMOOH_TEST_WORKERS pytest processes (pytest-xdist, a test file at a time
# per process); every process has its own database, topics, consumer group, Redis prefix and,
# in the live part, its own web server and worker. Most tests wait on the network, so this pays
# off even on two cores. Coverage (pytest-cov, SAMOOH_COVERAGE=0 turns it off) is measured in
# every process, the servers and workers they start included, and held at the floor set in
# pyproject.toml ([tool.coverage.report] fail_under).
workers=${SAMOOH_TEST_WORKERS:-2}
logs=".local/test-$instance/logs"
mkdir -p "$logs"
coverage=()
if [ "${SAMOOH_COVERAGE:-1}" != 0 ]; then
  coverage=(--cov --cov-report= --cov-fail-under=0)
fi
# How far a part is: pytest's last "[ NN%]" and the failures and errors so far.
progress() {
  local pct bad
  pct=$(grep -o '\[ *[0-9]*%\]' "$1" | tail -1 | tr -d '[ ]')
  bad=$(grep -E '^[.FEsx]+( |$)' "$1" | tr -cd 'FE' | wc -c)
  echo "${pct:-0%} (${bad} failed or erred)"
}
# Each part's log ends with its 25 slowest tests (the suite is meant to stay under 15 min).
run_part() {
  SAMOOH_TEST_PART=$1 COVERAGE_FILE="$PWD/$logs/coverage.$1" \
    $PY -m pytest -n "$workers" --dist loadfile -p no:cacheprovider --durations=25 "${coverage[@]}" \
    >"$logs/$1.log" 2>&1
}
echo "[samooh] pytest: live and quiet parts, $workers processes each (logs in $logs)" >&2
run_part live & live_pid=$!
run_part quiet & quiet_pid=$!
while kill -0 "$live_pid" 2>/dev/null || kill -0 "$quiet_pid" 2>/dev/null; do
  sleep 60
  echo "[samooh] $(( ($(date +%s) - started) / 60 )) min: live $(progress "$logs/live.log"), quiet $(progress "$logs/quiet.log")" >&2
done
live_rc=0 quiet_rc=0
wait "$live_pid" || live_rc=$?
wait "$quiet_pid" || quiet_rc=$?
for part in quiet live; do
  echo "======================== part: $part ========================"
  cat "$logs/$part.log"
done
coverage_rc=0
if [ ${#coverage[@]} -gt 0 ]; then
  echo "======================== coverage of app/, agents/, streams/ ========================"
  .venv/bin/coverage combine --quiet --data-file=.coverage "$logs/coverage.live" "$logs/coverage.quiet" \
    || coverage_rc=$?
  .venv/bin/coverage report --data-file=.coverage || coverage_rc=$?
fi
echo "[samooh] pytest parts: live exit $live_rc, quiet exit $quiet_rc, coverage exit $coverage_rc; $(( $(date +%s) - started )) s in all" >&2
[ "$live_rc" = 0 ] && [ "$quiet_rc" = 0 ] && [ "$coverage_rc" = 0 ]
