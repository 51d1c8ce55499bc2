"""Entry point of the `reprorun` command and of `python -m reprorun`."""

from __future__ import annotations

import sys


def main() -> None:
    """Try the warm path first (no heavy imports); fall back to the full command line."""
    from reprorun.cli import main as cli_main

    sys.exit(cli_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
