"""``sparkexp serve``: the live dashboard and REST API over a project root, until Ctrl-C.

Example::

    $ sparkexp serve hdfs:///Projects/demo --port 8765
    sparkexp dashboard for hdfs:///Projects/demo: http://127.0.0.1:8765/?token=Zk3...  (Ctrl-C to stop)
"""

from __future__ import annotations

import argparse
import os

from sparkexp.cli._common import EXIT_OK, CliError

__all__ = ["serve_command"]


def serve_command(args: argparse.Namespace) -> int:
    """Serve the dashboard in the foreground; the first line printed is the URL with the token."""
    from sparkexp import dashboard
    from sparkexp.project import resolve_root

    root = resolve_root(None, args.root)
    if args.root and "://" not in args.root and not os.path.isdir(os.path.expanduser(args.root)):
        raise CliError(f"project root {args.root!r} does not exist or is not a directory")
    board = dashboard.serve(root, host=args.host, port=args.port,
                            token=not args.no_token, master=args.master)
    print(f"sparkexp dashboard for {root}: {board.url}  (Ctrl-C to stop)", flush=True)
    try:
        board.wait()
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
    return EXIT_OK
