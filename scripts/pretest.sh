#!/usr/bin/env bash
# npm's "pretest": make the Playground browser test (test/playground.browser.test.ts) runnable
# on a fresh machine. Does nothing when Chromium is already at ${CHROMIUM_PATH:-/usr/bin/chromium};
# otherwise installs it with scripts/ensure-chromium.sh when we are root (or have passwordless
# sudo). Never fails `npm test`: when it cannot install, it says so in one line and exits 0.
chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
[[ -x "$chromium_path" ]] && exit 0

cannot() {
  echo "pretest: Chromium missing at $chromium_path and $1; the Playground browser test will fail — run scripts/ensure-chromium.sh as root or set CHROMIUM_PATH" >&2
  exit 0
}

if [[ "$(id -u)" -ne 0 ]] && ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
  cannot "not root (and no passwordless sudo)"
fi
command -v apt-get >/dev/null 2>&1 || cannot "no apt-get to install it with"

bash "$(dirname "$0")/ensure-chromium.sh" || cannot "scripts/ensure-chromium.sh could not install it"
exit 0
