#!/usr/bin/env bash
# Installs what the dashboard's browser tests (tests/e2e/ui) need: Debian's chromium.
# The playwright Python package comes with the `dev` extra; it drives /usr/bin/chromium, so no
# `playwright install` (no browser download). Never fails the build: if chromium cannot be
# installed the browser tests skip and say why.
set -uo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "== browser: $(/usr/bin/chromium --version 2>/dev/null | head -n1) already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "== browser: not root and no passwordless sudo; cannot apt-get install chromium."
        echo "== browser: the dashboard browser tests (tests/e2e/ui) will be SKIPPED."
        exit 0
    fi
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "== browser: apt-get not found (not Debian/Ubuntu); the dashboard browser tests will be SKIPPED."
    exit 0
fi

echo "== browser: installing Debian chromium (apt-get)"
export DEBIAN_FRONTEND=noninteractive
if $SUDO apt-get update -qq >/tmp/tollgate-apt.log 2>&1 \
    && $SUDO apt-get install -y -qq --no-install-recommends chromium >>/tmp/tollgate-apt.log 2>&1 \
    && [ -x /usr/bin/chromium ]; then
    echo "== browser: $(/usr/bin/chromium --version 2>/dev/null | head -n1) installed"
else
    echo "== browser: could not install chromium (see /tmp/tollgate-apt.log):"
    tail -n 5 /tmp/tollgate-apt.log 2>/dev/null || true
    echo "== browser: the dashboard browser tests (tests/e2e/ui) will be SKIPPED."
fi
exit 0
