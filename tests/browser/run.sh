#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a browser test (node SCRIPT ARGS...) in headless Chromium.  Without
# node or chromium the test is skipped (exit 77), except under CI=true, where
# it fails: CI must run it (scripts/deps installs both).
set -euo pipefail
script=$1
shift
. "$(dirname "$0")/../integration/lib.sh"
need_tools node
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium" ] || need_tools chromium
exec node "$script" "$chromium" "$@"
