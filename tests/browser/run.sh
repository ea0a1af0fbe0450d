#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a browser test (node SCRIPT ARGS...) in headless Chromium.  Without
# node or chromium the test is skipped (exit 77), except under CI=true, where
# it fails: CI must run it.
script=$1
shift
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser)}
missing=
command -v node >/dev/null 2>&1 || missing="node"
[ -n "$chromium" ] || missing="$missing chromium"
if [ -n "$missing" ]; then
	if [ "$CI" = true ]; then
		echo "browser test: not installed:$missing (scripts/deps installs them); failing under CI" >&2
		exit 1
	fi
	echo "browser test: not installed:$missing; skipped (scripts/deps installs them)" >&2
	exit 77
fi
exec node "$script" "$chromium" "$@"
