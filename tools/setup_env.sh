#!/usr/bin/env bash
# Creates the project's virtual environment (once) and installs the pinned packages and
# gan_utils (editable) into it.  Sourced by tools/book.sh and tools/test.sh; safe to re-run:
# it reinstalls only when requirements.txt, constraints.txt or pyproject.toml changed.
#   GAN_BOOK_VENV  where the environment lives (default: .venv in the repository)
#   PYTHON         the interpreter that creates it (default: python3; needs 3.10-3.12)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GAN_BOOK_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"

STAMP="$VENV/.gan-book-install-stamp"
WANT="$(cat "$ROOT/requirements.txt" "$ROOT/constraints.txt" "$ROOT/pyproject.toml" | sha256sum | cut -c1-64)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    echo "==> installing pinned requirements (first time: a few minutes)"
    python -m pip install --quiet --upgrade pip
    python -m pip install --quiet -r "$ROOT/requirements.txt" -c "$ROOT/constraints.txt"
    python -m pip install --quiet --no-deps -e "$ROOT"
    # The kernel that nbval and papermill start must be this environment's Python.
    python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (GAN course)" >/dev/null
    echo "$WANT" > "$STAMP"
else
    echo "==> environment $VENV is up to date"
fi
export JUPYTER_PREFER_ENV_PATH=1
export MPLBACKEND="${MPLBACKEND:-Agg}"
