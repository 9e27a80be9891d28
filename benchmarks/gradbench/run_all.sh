#!/usr/bin/env bash
# Every GradBench eval through adc's tool at its smallest sizes, one pipe.py run each (docs/gradbench.md).
# Usage: benchmarks/gradbench/run_all.sh [EVAL_PYTHON]   (a python with pydantic and dataclasses-json)
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
py=${1:-python}
G=$("$py" "$repo/benchmarks/gradbench/reference.py" | tail -1) || exit 1
export ADC_CACHE_DIR=${ADC_CACHE_DIR:-$(mktemp -d)} OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1
run() { e=$1; shift; echo "### $e $*"; "$py" "$G/pipe.py" --root "$G" --eval "$e" --log "${LOGDIR:-/tmp}/gradbench-$e.log" \
          --tool "$repo/.venv/bin/python $repo/benchmarks/gradbench/run.py" -- "$@"; }
R=(--min-runs 5 --min-seconds 0)
run hello
run lse -n 2500 "${R[@]}"
run llsq -n 16 "${R[@]}"
run det -l 5 "${R[@]}"
run ode -n 1000 -s 1 "${R[@]}"
run kmeans -k 10 -n 1000 -d 8 "${R[@]}"
run gmm -d 2 -k 5 "${R[@]}"
run lstm -l 2 -c 1024 "${R[@]}"
run particle "${R[@]}"
run saddle "${R[@]}"
run ht --min 1 --max 1 --model small --min-runs 1 --min-seconds 0
run ba --min 1 --max 1 --min-runs 1 --min-seconds 0
