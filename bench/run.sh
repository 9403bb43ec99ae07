#!/usr/bin/env bash
# The fleet benchmark in one command; see bench/README.md. Options go to run.py:
#   bench/run.sh --scenarios smoke
#   bench/run.sh --scenarios steady -n 2000 -r 1500 -t 60 --profile
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
exec "$PY" bench/run.py "$@"
