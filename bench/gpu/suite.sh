#!/usr/bin/env bash
# The GPU benchmark suite (BENCHMARKS.md G1-G6) in one call: each benchmark's script into its
# own folder of OUT_DIR, one after another, then each one's closing lines.
#
#   bench/gpu/suite.sh OUT_DIR [BENCHMARK...]
#
# BENCHMARK: g1 (scaling.sh, MODELS default "resnet50 bert"), g2g4 (profile.sh), g3
# (baseline.sh), g5 (memory.sh), g6 (isolation.sh); default all five, in that order. Every
# script builds the torch plugin and makes the models itself (cached in build/ while the machine
# stays up). A failed benchmark is reported and the next one runs; the exit status is 1 if any
# failed. Each script has run on 2 x H200 on its own (docs/benchmarks.md); the suite as one
# call takes longer than the 10 minutes a call of our device tool may last, so run it in parts
# there.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/suite.sh OUT_DIR [g1 g2g4 g3 g5 g6]}
shift
mkdir -p "$out"
failed=0
for benchmark in "${@:-g1 g2g4 g3 g5 g6}"; do
  for name in $benchmark; do
    case $name in
      g1) script=scaling.sh; export MODELS=${MODELS:-resnet50 bert} ;;
      g2g4) script=profile.sh ;;
      g3) script=baseline.sh ;;
      g5) script=memory.sh ;;
      g6) script=isolation.sh ;;
      *) echo "unknown benchmark '$name' (g1 g2g4 g3 g5 g6)" >&2; exit 2 ;;
    esac
    echo "[suite] $name: bench/gpu/$script $out/$name" >&2
    if ! "bench/gpu/$script" "$out/$name" >"$out/$name.log" 2>&1; then
      echo "[suite] $name FAILED (see $out/$name.log)" >&2
      failed=1
    fi
    tail -4 "$out/$name.log"
  done
done
exit $failed
