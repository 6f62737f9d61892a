#!/usr/bin/env bash
# Schemathesis fuzzing of a freshly started authgate server (see run_fuzz.py).
# Needs the packages of tests/interop/requirements.txt in the current Python
# (scripts/verify-independent sets up target/interop-venv and calls this).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3}"
exec "$PYTHON" tests/fuzz/run_fuzz.py "$@"
