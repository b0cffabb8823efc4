"""The ``sparkexp`` command line: ``python -m sparkexp``, the ``sparkexp`` script, or this file
as the application of ``spark-submit``.

Example::

    sparkexp run spec.yaml --master 'local[2]'
    spark-submit --master yarn $(python -c 'import sparkexp.cli as c; print(c.__file__)') run spec.yaml
    sparkexp list
    sparkexp show demo_1

See ``docs/cli.md`` for every command and the spec format.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sparkexp`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    from sparkexp.cli._main import main as run

    return run(argv)


if __name__ == "__main__":
    # run as a file (spark-submit): this directory is sys.path[0]; keep it from shadowing modules
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]
    sys.exit(main())
