#!/usr/bin/env bash
# The full reliability campaign (issue 17): 1,000 SIGKILLs over a mixed workload, the fault
# tests and torn writes, 1,000,000 fuzz cases, a 10-minute 16-client soak and secret hygiene,
# against real scmd processes. Rewrites RELIABILITY.md with the figures; exits non-zero on any
# loss, crash, rollback, untyped answer, stall or leak. Options go to tests/campaign/run.py
# (e.g. --kills 100 --fuzz 20000 --soak 60 for a quick run). Needs root for the tmpfs tests.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || ./scripts/setup.sh
exec .venv/bin/python -m tests.campaign.run "$@"
