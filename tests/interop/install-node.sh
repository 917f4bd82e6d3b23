#!/usr/bin/env bash
# Installs the Node packages the JsSIP/SIP.js interop tests use (tests/tests/interop_js.rs):
# exactly the versions in package-lock.json, into tests/interop/node_modules. Needs node (20
# or later) and npm; tests/interop/install.sh calls it after installing those and chromium.
# No browser is downloaded: playwright-core drives the system's /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { echo "install-node.sh: node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "install-node.sh: npm is not installed" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "install-node.sh: node $(node --version) is too old; 20 or later is needed" >&2
  exit 1
fi
# playwright-core has no install script; the variable guards against one that would fetch a browser.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
node js/check-install.mjs
