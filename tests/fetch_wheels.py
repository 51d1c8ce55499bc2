"""Download the real Jupyter wheels the notebook tests install from (CI does this before pytest).

    python tests/fetch_wheels.py [FOLDER]

FOLDER defaults to `.test-wheels/` at the repository root (gitignored); the tests read the same
place, or the folder named by REPRORUN_TEST_WHEELS. Wheels only, for the interpreter running this
script (CI's python3, CPython 3.11 on linux x86_64), with every dependency: the tests then install
from this folder alone, never from the network.
"""

from __future__ import annotations

import os
import subprocess
import sys

# ipykernel + nbclient + nbformat are what reprorun layers on a script's env; jupyter_client is
# what the kernelspec test drives; matplotlib draws the image/png output; pyyaml reads --params;
# pandas, seaborn and scikit-image: the README's examples (tests/test_examples.py).
# tabulate, python-dateutil and tzdata: the documentation's examples (tests/test_docs.py), pinned so
# that the output the pages show stays true; OLDER: the release docs/freeze.md upgrades from.
PACKAGES = ("ipykernel", "nbclient", "nbformat", "jupyter_client", "matplotlib", "pyyaml",
            "pandas", "seaborn", "scikit-image",
            "tabulate==0.10.0", "python-dateutil==4.0.0", "tzdata==2026.6")  # fmt: skip
OLDER = ("tabulate==0.9.0",)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = os.path.join(ROOT, ".test-wheels")


def main(argv: list[str]) -> int:
    """Download the wheels into the folder; pip's exit status."""
    folder = argv[0] if argv else os.environ.get("REPRORUN_TEST_WHEELS") or DEFAULT
    os.makedirs(folder, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--dest", folder]  # fmt: skip
    print(f"fetch_wheels: {' '.join(PACKAGES + OLDER)} -> {folder}", file=sys.stderr)
    # Two downloads: one resolution cannot hold two versions of a package.
    return subprocess.call([*command, *PACKAGES]) or subprocess.call([*command, "--no-deps", *OLDER])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
