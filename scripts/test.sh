#!/usr/bin/env bash
# Install what is missing, lint and type-check, then run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check -q src tests bench scripts        # lint
.venv/bin/mypy                                          # types (strict on wire/ and the host API)
exec .venv/bin/python -m pytest -q "$@"
