#!/usr/bin/env bash
# The whole test suite: install what it needs (Graphviz, Chromium for the browser tests, PyTorch
# for the reference numbers, the notebook runner, ruff and mypy), check lint, format and types,
# then run pytest. Any finding, failure or skipped test fails the run.
SETUP_APT="graphviz chromium chromium-driver" SETUP_EXTRAS="test,plot,notebooks"
source "$(dirname "$0")/setup.sh"
echo "== ruff check, ruff format --check, mypy"
ruff check --quiet .
ruff format --check --quiet .
mypy
python -m pytest "$@"
