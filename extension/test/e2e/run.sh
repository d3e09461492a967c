#!/usr/bin/env bash
# Builds the .vsix, installs code-server and Chromium when missing, and runs the end-to-end suite.
set -euo pipefail
cd "$(dirname "$0")/../../.."
bash extension/test/e2e/setup.sh
npm run package
npx mocha --no-config --node-option import=tsx --reporter ./test/reporter.cjs --timeout 300000 extension/test/e2e/extension.e2e.ts
