#!/usr/bin/env bash
# Installs everything ONNX Lens needs on a fresh Debian machine: from Debian the
# ONNX backend test suite, the reference onnx checker, Chromium and the headers
# code-server builds against; then the npm packages; then code-server itself
# for the end-to-end tests (cached in .cache/code-server).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libonnx-testdata python3-onnx chromium libkrb5-dev)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

npm ci --no-audit --no-fund
bash scripts/install-code-server.sh
