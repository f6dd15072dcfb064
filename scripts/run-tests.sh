#!/usr/bin/env bash
# The whole test suite: install what it needs (Graphviz, Chromium for the browser tests, PyTorch
# for the reference numbers, the notebook runner), then run pytest. Any skipped test fails the run.
SETUP_APT="graphviz chromium chromium-driver" SETUP_EXTRAS="test,plot,notebooks"
source "$(dirname "$0")/setup.sh"
python -m pytest "$@"
