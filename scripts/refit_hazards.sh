#!/usr/bin/env bash
# Refit configs/hazards.fitted.yaml from the catalog, with the windows and options documented in
# docs/background/calibration.md §7. Writes the calibration report to runs/calibration/.
# Usage: scripts/refit_hazards.sh [extra corridor-sim calibrate options]
set -euo pipefail
cd "$(dirname "$0")/.."
python -m sim calibrate seeds/disruption_events.csv \
  --config configs/kazakhstan.yaml \
  --map cpc_spm=cpc_terminal \
  --window cpc_terminal=2021-01-01 --window cpc_spm=2021-01-01 --window cpc_pipeline=2021-01-01 \
  --window btc=2006-01-01 --window kcp=2006-07-01 \
  --split-date 2022-02-24 --split-causes military,regulatory,political \
  --seasonal \
  --out configs/hazards.fitted.yaml --report-dir runs/calibration "$@"
