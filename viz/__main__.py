"""`python -m viz FORMULA NAME=VALUE ... -o J.svg`: the same as the `micrograd-viz` command."""

import sys

from .cli import main

sys.exit(main())
