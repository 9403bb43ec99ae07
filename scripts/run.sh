#!/usr/bin/env bash
# Start the CSMS: create .venv if needed, install, migrate and create the admin
# user (bootstrap), then serve. With no DATABASE_URL/REDIS_URL this is the
# embedded run: SQLite in var/, in-memory channel layer, no other services.
# Arguments go to `manage.py serve` (e.g. --port 9000, --server uvicorn).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh

ensure_venv requirements.txt
.venv/bin/python manage.py bootstrap
exec .venv/bin/python manage.py serve "$@"
