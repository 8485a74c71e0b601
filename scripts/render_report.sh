#!/usr/bin/env bash
# Render a run's or an experiment's report.html in headless Chromium (Debian's `chromium`) to a
# full-page PNG to look at; warns (exit 1) when the page is wider than the window.
# Usage: scripts/render_report.sh DIR [OUT.png] [--width 1000]
set -euo pipefail
dir=${1:?usage: scripts/render_report.sh DIR [OUT.png] [--width PX]}
shift
here=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" exec python -m sim.report.screenshot "$dir" "$@"
