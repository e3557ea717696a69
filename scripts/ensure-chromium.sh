#!/usr/bin/env bash
# Make sure a Chromium binary exists for test/playground.browser.test.ts (driven by
# playwright-core, which downloads no browser). Installs Debian's "chromium" package when
# $CHROMIUM_PATH (default /usr/bin/chromium) is absent. Needs root (or sudo) for apt-get.
set -euo pipefail

chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [[ -x "$chromium_path" ]]; then
  echo "ensure-chromium: found $chromium_path ($("$chromium_path" --version 2>/dev/null || echo 'version unknown')); nothing to do"
  exit 0
fi

echo "ensure-chromium: $chromium_path not found; installing Debian package 'chromium'"
sudo=""
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "ensure-chromium: not root and no sudo; cannot install" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
echo "ensure-chromium: running apt-get update"
$sudo apt-get update
echo "ensure-chromium: running apt-get install -y --no-install-recommends chromium"
$sudo apt-get install -y --no-install-recommends chromium

if [[ ! -x "$chromium_path" ]]; then
  echo "ensure-chromium: installed 'chromium' but $chromium_path is still missing (CHROMIUM_PATH points elsewhere?)" >&2
  exit 1
fi
echo "ensure-chromium: installed $chromium_path ($("$chromium_path" --version 2>/dev/null || echo 'version unknown'))"
