"""``python -m flyconf`` runs the command line."""

import sys

from flyconf.cli import main

sys.exit(main())
