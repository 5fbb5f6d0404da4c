#!/usr/bin/env bash
# Checks of the monitoring configuration (issue #22): `promtool check rules` on the alert rules,
# `promtool test rules` on their unit tests, and `promtool check config` on the Prometheus
# configuration docker-compose mounts. promtool comes from Debian's `prometheus` package,
# installed here when missing (as root; otherwise the script says how and fails).
# Called by tests/ops/test_monitoring.py, so `make test` runs it; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")"

APT_LOCK_TIMEOUT=${SAMOOH_APT_LOCK_TIMEOUT:-600}
APT_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock)
wait_for_apt() {
  local deadline=$(( $(date +%s) + APT_LOCK_TIMEOUT ))
  while fuser "${APT_LOCKS[@]}" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "[samooh] gave up after ${APT_LOCK_TIMEOUT} s waiting for another apt/dpkg" >&2
      return 1
    fi
    sleep 2
  done
}

if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "[samooh] promtool is missing: run 'sudo apt-get install -y prometheus'" >&2
    exit 1
  fi
  echo "[samooh] installing Debian's prometheus (for promtool)…" >&2
  wait_for_apt
  apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" update -qq >/dev/null
  wait_for_apt
  # --no-install-recommends: promtool only, not the exporters and web assets it recommends;
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" \
    install -y -qq --no-install-recommends prometheus >/dev/null
fi

promtool --version 2>&1 | head -1
promtool check rules prometheus/alerts.yml
promtool test rules prometheus/alerts_test.yml
promtool check config --syntax-only prometheus/prometheus.yml
