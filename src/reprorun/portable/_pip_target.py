"""Run pip with the PEP 508 marker values of another platform (stdlib only; run as a script).

`python _pip_target.py PIP_PARENT MARKERS_JSON PIP_ARGS...`. pip's `--platform` and
`--python-version` choose wheels for another machine, but pip evaluates environment markers for
the interpreter running it (pypa/pip#11664), so `pywin32; sys_platform == "win32"` would be
missed when resolving for Windows on Linux. pip evaluates every marker through its vendored
`packaging.markers.default_environment`; this replaces it with the target's values, then runs
pip's own entry point.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    """Run pip (found under argv[0]) with argv[1]'s marker values and argv[2:] as its arguments."""
    sys.path.insert(0, argv[0])
    from pip._vendor.packaging import markers

    target = json.loads(argv[1])
    host = markers.default_environment

    def target_environment() -> dict[str, str]:
        return {**host(), **target}

    # pip's vendored packaging types the result as dict[str, str] up to pip 24 and as its own
    # TypedDict after; the ignore holds against whichever pip the type check meets.
    markers.default_environment = target_environment  # type: ignore[assignment,unused-ignore]
    from pip._internal.cli.main import main as pip_main

    return int(pip_main(argv[2:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
