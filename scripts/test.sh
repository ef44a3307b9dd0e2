#!/usr/bin/env bash
# Runs the whole test suite, installing what it needs first.
# PostgreSQL (127.0.0.1:5432, database "test") and Redis (127.0.0.1:6379) are used when they answer.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e '.[test]'
python3 -m pytest -n 2 -q "$@"
