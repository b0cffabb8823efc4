"""``python -m sparkexp ...``: the command line (see :mod:`sparkexp.cli`)."""

from __future__ import annotations

import sys

from sparkexp.cli import main

if __name__ == "__main__":
    sys.exit(main())
