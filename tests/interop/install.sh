#!/usr/bin/env bash
# Installs the interop peers on a fresh Debian machine (root, apt and npm available):
#   - Debian's Kamailio with its WebSocket and TLS modules, the packaged service left
#     disabled and stopped (the tests start their own Kamailio on 127.0.0.1 only);
#   - Debian's Chromium, for the browser tests (playwright-core drives it; no browser
#     download);
#   - the pinned Node packages of tests/interop/package-lock.json (jssip, sip.js, ws,
#     playwright-core), with `npm ci`.
# Idempotent: what is already installed is left as it is.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

packages=(kamailio kamailio-websocket-modules kamailio-tls-modules chromium)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: needs root to install ${missing[*]}" >&2
    exit 1
  fi
  # No packaged service may start while installing: policy-rc.d answers "not allowed"
  # (invoke-rc.d's protocol), removed again afterwards if we created it.
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if ((created_policy)); then
    rm -f /usr/sbin/policy-rc.d
  fi
fi

# The packaged Kamailio service stays disabled and stopped: it would listen on every
# interface with the stock configuration.
if command -v systemctl > /dev/null 2>&1; then
  systemctl disable kamailio > /dev/null 2>&1 || true
  systemctl stop kamailio > /dev/null 2>&1 || true
fi
if command -v update-rc.d > /dev/null 2>&1; then
  update-rc.d kamailio disable > /dev/null 2>&1 || true
fi
pkill -x kamailio 2> /dev/null || true

# The Node packages at the versions of package-lock.json.
if [[ -f "$here/install-node.sh" ]]; then
  bash "$here/install-node.sh"
else
  (cd "$here" && npm ci --no-audit --no-fund)
fi

kamailio -v | head -1
chromium --version 2> /dev/null || true
node --version
