#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite: unit tests, parity tests, every
# chapter notebook under nbval in the smoke profile, committed-output checks and a book build.
# Extra arguments go to pytest (e.g. tools/test.sh -k data).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools/setup_env.sh
. "$ROOT/tools/setup_env.sh"
cd "$ROOT"
export GAN_BOOK_PROFILE=smoke
python -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env --nbval-cell-timeout 300 "$@"
