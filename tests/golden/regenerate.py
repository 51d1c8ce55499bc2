"""Regenerate the golden files: `python tests/golden/regenerate.py` (review the diff by eye!).

Each case folder holds `before.txt`; this writes `report.json` (pip's dry-run report against the
test wheelhouse, trimmed to what freezing reads) and `after.txt` (the frozen script, for a fixed
`frozen-for`). `second_freeze` is the frozen `comments_tools` (with hashes) frozen once more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from reprorun.freeze import pins, resolve, writeback  # noqa: E402
from reprorun.script import metadata  # noqa: E402
from wheelhouse import build_wheelhouse  # noqa: E402

FROZEN_FOR = "cpython-3.11.7-manylinux_2_36_x86_64"
HASHES = {"extras", "comments_tools", "second_freeze"}


def trimmed(report: dict[str, Any]) -> dict[str, Any]:
    """Only what `resolve.from_report` reads, without machine-specific paths."""
    items = []
    for item in report["install"]:
        sha = item["download_info"].get("archive_info", {}).get("hashes", {}).get("sha256")
        kept = {
            "metadata": {k: item["metadata"][k] for k in ("name", "version", "requires_dist") if k in item["metadata"]},
            "requested": item.get("requested", False),
            "is_direct": item.get("is_direct", False),
            "download_info": {"url": os.path.basename(item["download_info"]["url"]),
                              "archive_info": {"hashes": {"sha256": sha}}},
        }
        if "requested_extras" in item:
            kept["requested_extras"] = item["requested_extras"]
        items.append(kept)
    return {"version": "1", "install": items, "environment": report["environment"]}


def main() -> None:
    """Write report.json and after.txt for every case."""
    with tempfile.TemporaryDirectory() as folder:
        house = Path(folder) / "wheels"
        house.mkdir()
        build_wheelhouse(house)
        for case in sorted(p for p in HERE.iterdir() if p.is_dir() and p.name != "second_freeze"):
            text = (case / "before.txt").read_bytes().decode()
            meta = metadata.parse(text)
            plan = pins.plan(meta, hashes=case.name in HASHES)
            out = Path(folder) / "report.json"
            subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q",
                            "--no-index", "--find-links", str(house), "--report", str(out), *plan.requested],
                           check=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
            report = trimmed(json.loads(out.read_text()))
            (case / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
            after = writeback.render(text, meta, plan, resolve.from_report(report, plan.requested), FROZEN_FOR)
            (case / "after.txt").write_bytes(after.encode())
    second = HERE / "second_freeze"
    second.mkdir(exist_ok=True)
    frozen = (HERE / "comments_tools" / "after.txt").read_bytes()
    (second / "before.txt").write_bytes(frozen)
    (second / "after.txt").write_bytes(frozen)
    (second / "report.json").write_bytes((HERE / "comments_tools" / "report.json").read_bytes())


if __name__ == "__main__":
    main()
