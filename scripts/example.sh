#!/usr/bin/env bash
# The main job on a generated example lake, from nothing:
#   1. set up and build (scripts/setup.sh);
#   2. generate a small lake (50 listings, one week, XLON and XPAR) into example/lake;
#   3. validate and run examples/quickstart.yaml; print where the output is.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
BIN=build/release/intraday
CONFIG=${1:-examples/quickstart.yaml}

if [ ! -d example/lake ]; then
  "$BIN" generate --out example/lake --listings 50 --start 2026-03-02 --end 2026-03-06 \
    --mics XLON,XPAR --profile small --seed 1
fi
"$BIN" validate "$CONFIG"
"$BIN" run "$CONFIG" --force
echo
echo "output: $(cd example/out && pwd) (one Parquet dataset per pass, Hive-partitioned by date)"
echo "run report: $(ls -t example/out/_runs/*.json | head -1)"
