#!/usr/bin/env bash
# Install everything, start the module daemon (scmd) and walk through its features.
# Extra arguments go to scripts/demo.py (--exit stops scmd after the tour).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"
