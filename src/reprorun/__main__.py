"""Entry point of the `reprorun` command and of `python -m reprorun`."""

from __future__ import annotations

import os
import sys


def main(*, warm_tried: bool = False) -> None:
    """Try the warm path first (no heavy imports), then the lean first run (launch/firstrun.py);
    fall back to the full command line.

    `warm_tried`: the caller (the `reprorun` script) has tried the warm path already.
    """
    argv = sys.argv[1:]
    if not warm_tried:
        from reprorun.warm import start

        start(argv)
    if os.environ.get("REPRORUN_WARM", "1") != "0":
        from reprorun.launch.firstrun import start as first_run

        first_run(argv)  # no env yet: one without requirements is built and run here, without the CLI
    if os.environ.get("REPRORUN_WARM", "1") != "0" and (
        os.environ.get("REPRORUN_RECORD") or any(arg.startswith("--record") for arg in argv)
    ):
        from reprorun.records.fast import try_recorded

        try_recorded(argv)  # a recorded run of a cached env: exits when it could run it
    import gc

    # Until a command's own work starts (cli.py turns it back on), the cyclic collector would only
    # walk the objects that imports make, none of them garbage: 4 % of a cold run's own work.
    gc.disable()
    from reprorun.cli import main as cli_main

    sys.exit(cli_main(argv))


if __name__ == "__main__":
    main()
