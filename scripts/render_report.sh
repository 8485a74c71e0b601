#!/usr/bin/env bash
# Render a run's report.html in headless Chromium (Debian's `chromium`) to a PNG to look at.
# Usage: scripts/render_report.sh RUN_DIR [OUT.png]
set -euo pipefail
run_dir=${1:?usage: scripts/render_report.sh RUN_DIR [OUT.png]}
out=${2:-$run_dir/report.png}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1200,2400 \
  --screenshot="$out" "file://$(realpath "$run_dir")/report.html" 2>/dev/null
echo "wrote $out"
