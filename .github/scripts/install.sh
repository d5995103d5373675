#!/usr/bin/env bash
# Install enrich from this checkout into the virtual environment VENV (created or synced),
# its dependencies at exactly the versions of uv.lock, with uv: a second or two, where
# `pip install .` resolves afresh and takes 20-40 s. The action runs it; so can you:
#
#   bash .github/scripts/install.sh VENV && VENV/bin/python -m enrich --version
set -euo pipefail

UV_VERSION=0.13.10 # the uv that reads uv.lock; `nox -s lock` writes the lock with it

venv=${1:?usage: install.sh VENV}
project=$(cd "$(dirname "$0")/../.." && pwd)
python=$(command -v python || command -v python3)
"$python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
UV_PROJECT_ENVIRONMENT=$venv "$python" -m uv sync --quiet --frozen --no-dev --no-editable \
    --project "$project" --python "$python"
"$venv/bin/python" -m enrich --version
