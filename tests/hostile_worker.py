"""Run many reprorun command lines in one process, each under a timeout; report how each ended.

Usage: python hostile_worker.py TASKS.json RESULTS.json. Each task is an argv for `reprorun`; the
worker calls `reprorun.cli.main` in-process (no interpreter start per input) with stdout and
stderr captured and an alarm as a timeout, and writes one result per task: exit code, stdout,
stderr, seconds, and whether it timed out or let an exception escape (with the traceback).
"""

from __future__ import annotations

import io
import json
import signal
import sys
import time
import traceback
from types import FrameType

TIMEOUT = 20  # seconds per task: far above any input's need, far below a hang's


class Hang(BaseException):
    """The task ran past its timeout."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        tasks = json.load(handle)
    from reprorun.cli import main as cli_main

    signal.signal(signal.SIGALRM, _alarm)
    results = []
    real_out, real_err, real_in = sys.stdout, sys.stderr, sys.stdin
    for argv in tasks:
        out, err = io.StringIO(), io.StringIO()
        sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO("")
        start = time.monotonic()
        code, escaped, hung = None, "", False
        signal.alarm(TIMEOUT)
        try:
            code = cli_main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
        except Hang:
            hung = True
        except BaseException:  # noqa: BLE001 - what escapes is exactly what the test looks for
            escaped = traceback.format_exc()
        finally:
            signal.alarm(0)
            sys.stdout, sys.stderr, sys.stdin = real_out, real_err, real_in
        results.append({"argv": argv, "code": code, "stdout": out.getvalue(),
                        "stderr": err.getvalue()[:20000], "escaped": escaped, "hung": hung,
                        "seconds": round(time.monotonic() - start, 3)})  # fmt: skip
    with open(sys.argv[2], "w", encoding="utf-8") as handle:
        json.dump(results, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
