#!/usr/bin/env bash
# Installs what the book needs and builds it into _build/html (open _build/html/index.html).
# Notebooks are not executed: the book shows their committed full-profile outputs.
# Warnings are errors. Works with no internet beyond the package registry.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools/setup_env.sh
. "$ROOT/tools/setup_env.sh"
cd "$ROOT"
python -m gan_utils.build "$@"
