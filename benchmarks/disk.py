"""Disk: the whole cache after a first science env, and what a second one with one more package costs.

Each tool starts from empty caches of its own (the wheelhouse is the only source), runs the
science script once (so a first run's bytecode is counted too), then a second script with the
same packages plus six. Sizes are `du -s -B1` of everything the tool wrote, in one `du` call, so
a file hard-linked twice (uv's cache and its envs, reprorun's store and its envs) counts once:

- `uv run --script`: its cache (wheels, unpacked archives, script envs);
- `reprorun --installer uv`: reprorun's cache and the uv cache its uv used;
- `reprorun --installer pip`: reprorun's cache (pip reads the local wheelhouse, caches nothing).

Beside each figure, in brackets, the part of it that is bytecode (`.pyc` files, each once).
"""

from __future__ import annotations

import os
import shutil
import subprocess

from workdir import Work

MIB = 1024 * 1024


def du(*folders: str) -> int:
    """Bytes on disk of the folders together (hard links counted once)."""
    present = [f for f in folders if os.path.isdir(f)]
    if not present:
        return 0
    out = subprocess.run(["du", "-s", "-c", "-B1", *present], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1].split()[0])


def bytecode(*folders: str) -> int:
    """Bytes on disk of the `.pyc` files under the folders (each inode once, links not followed)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder in folders:
        for root, _dirs, names in os.walk(folder):
            for name in names:
                if name.endswith(".pyc"):
                    info = os.lstat(os.path.join(root, name))
                    if (info.st_dev, info.st_ino) not in seen:
                        seen.add((info.st_dev, info.st_ino))
                        total += info.st_blocks * 512
    return total


def section(work: Work, first: str, second: str) -> dict[str, dict[str, float]]:
    """Sizes in MiB for each tool: after the first env, the second env's cost, and the ratios to uv."""
    base = os.path.join(work.root, "disk")
    shutil.rmtree(base, ignore_errors=True)
    tools: dict[str, tuple[list[str], dict[str, str], list[str]]] = {}
    if work.uv:
        cache = os.path.join(base, "uv")
        env = work.environ(UV_CACHE_DIR=cache)
        tools["uv run --script"] = ([work.uv, "run", "--script"], env, [cache])
    for installer in ("uv", "pip"):
        if installer == "uv" and not work.uv:
            continue
        cache, uv_cache = os.path.join(base, f"reprorun-{installer}"), os.path.join(base, f"reprorun-{installer}-uv")
        env = work.environ(REPRORUN_CACHE_DIR=cache, UV_CACHE_DIR=uv_cache)
        argv = [work.reprorun, "--installer", installer, "--python", work.python]
        tools[f"reprorun --installer {installer}"] = (argv, env, [cache, uv_cache])
    sizes: dict[str, dict[str, float]] = {}
    for name, (argv, env, folders) in tools.items():
        for script in (first, second):
            subprocess.run([*argv, script], env=env, capture_output=True, check=True)
            row = sizes.setdefault(name, {})
            row["first" if script == first else "both"] = du(*folders) / MIB
            row["bytecode_first" if script == first else "bytecode_both"] = bytecode(*folders) / MIB
        row = sizes[name]
        row["second_env"] = row["both"] - row["first"]
    uv = sizes.get("uv run --script")
    for name, row in sizes.items():
        if uv and name != "uv run --script":
            row["first_vs_uv"] = row["first"] / uv["first"]
            row["second_env_vs_uv"] = row["second_env"] / uv["second_env"] if uv["second_env"] else float("inf")
        for key, value in row.items():
            row[key] = round(value, 2)
    shutil.rmtree(base, ignore_errors=True)
    return sizes


def lines(sizes: dict[str, dict[str, float]]) -> list[str]:
    """The section as text."""
    out = ["disk (MiB; fresh caches; the science script, then the same packages + six)"]
    for name, row in sizes.items():
        ratios = ""
        if "first_vs_uv" in row:
            ratios = f"  ({row['first_vs_uv']:.2f}x uv; second env {row['second_env_vs_uv']:.2f}x uv)"
        out.append(f"  {name:28} after first env {row['first']:8.1f}  second env +{row['second_env']:6.1f}{ratios}"
                   f"  [bytecode {row.get('bytecode_first', 0):.1f}, then {row.get('bytecode_both', 0):.1f}]")
    return out


def targets(sizes: dict[str, dict[str, float]]) -> list[dict[str, object]]:
    """Issue 17's disk targets: second env <= 1.15x uv's, whole cache after the first <= 1.1x uv's."""
    found = []
    for name, row in sizes.items():
        if "first_vs_uv" not in row:
            continue
        for key, limit, what in (("second_env_vs_uv", 1.15, "second science env"),
                                 ("first_vs_uv", 1.1, "cache after the first science env")):  # fmt: skip
            found.append({"target": f"disk, {what}: {name} <= {limit}x uv", "ratio": row[key],
                          "met": row[key] <= limit})  # fmt: skip
    return found
