#!/usr/bin/env bash
# The main job: install what is needed, then run the worked examples and training (scripts/demo.py).
SETUP_APT="graphviz" SETUP_EXTRAS="plot"
source "$(dirname "$0")/setup.sh"
python scripts/demo.py "$@"
