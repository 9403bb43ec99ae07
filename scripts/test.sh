#!/usr/bin/env bash
# Lint, check migrations, run the tests. Arguments go to pytest
# (e.g. tests/operations -q, -k health, -x). Uses DATABASE_URL/REDIS_URL when
# set (PostgreSQL + Redis), else the embedded SQLite + in-memory default.
# Every stage runs even if an earlier one failed, so one run shows everything.
# Exit status: pytest's (5 when no test ran), or 1 if only lint/migrations failed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh

ensure_venv requirements.txt requirements-dev.txt

echo "== ruff check"
ruff_rc=0
.venv/bin/ruff check . || ruff_rc=$?

echo "== makemigrations --check"
migrations_rc=0
.venv/bin/python manage.py makemigrations --check --dry-run || migrations_rc=$?

echo "== pytest"
pytest_rc=0
.venv/bin/pytest "$@" || pytest_rc=$?

[ "$ruff_rc" -eq 0 ] || echo "test.sh: ruff check failed (exit $ruff_rc)" >&2
[ "$migrations_rc" -eq 0 ] || echo "test.sh: missing migrations (exit $migrations_rc)" >&2
if [ "$pytest_rc" -eq 0 ] || [ "$pytest_rc" -eq 5 ]; then
    if [ "$ruff_rc" -ne 0 ] || [ "$migrations_rc" -ne 0 ]; then
        exit 1
    fi
fi
exit "$pytest_rc"
