#!/usr/bin/env bash
# System packages Luzhi needs: a CJK font and HarfBuzz subsetting for PDFs (and, with
# --test, Chromium, poppler and Redis for the browser, PDF and session-store tests; with
# --bench, also Chromium, the scorecards' reference, and wrk for the load rows).
# Installs them when run as root; otherwise prints the exact command and stops.
set -euo pipefail

missing=()
# read the listings first: with pipefail, `grep -q` closing the pipe early would make
# the producer fail and every package look missing
fonts=$(fc-list 2>/dev/null || true)
libraries=$(ldconfig -p 2>/dev/null || true)
grep -q "Noto Sans CJK SC" <<<"$fonts" || missing+=(fonts-noto-cjk)
grep -q "libharfbuzz-subset.so.0" <<<"$libraries" || missing+=(libharfbuzz-subset0)
grep -q "libpango-1.0.so.0" <<<"$libraries" || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
if [[ "${1:-}" == "--test" ]]; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v pdftoppm >/dev/null || missing+=(poppler-utils)
  command -v redis-server >/dev/null || missing+=(redis-server)
fi
if [[ "${1:-}" == "--bench" ]]; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v wrk >/dev/null || missing+=(wrk)
fi

((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fc-cache -f >/dev/null 2>&1 || true
else
  echo "Luzhi needs these system packages: ${missing[*]}"
  echo "Install them with:  sudo apt-get install -y ${missing[*]}"
  exit 1
fi
