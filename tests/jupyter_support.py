"""Fixtures for the tests that run a real Jupyter kernel: the downloaded wheels, a shared cache.

The wheels (ipykernel, nbclient, nbformat, jupyter_client, matplotlib and their dependencies)
are downloaded before the tests by `tests/fetch_wheels.py` (`.ci/run` calls it) into
`.test-wheels/` at the repository root or the folder REPRORUN_TEST_WHEELS names; the tests
install from there only. Without them the tests skip, saying why, except in CI (CI set), where
a missing folder is a failure: a test that skips in CI proves nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Read at import: the autouse fixture of conftest.py clears REPRORUN_* variables for each test.
WHEELS = Path(os.environ.get("REPRORUN_TEST_WHEELS") or ROOT / ".test-wheels")
PYTHON_TAG = f"cp{sys.version_info.major}{sys.version_info.minor}"

Run = Callable[..., "subprocess.CompletedProcess[str]"]
Completed = subprocess.CompletedProcess[str]


def _missing() -> str | None:
    if not WHEELS.is_dir() or not any(WHEELS.glob("ipykernel-*.whl")):
        return f"no Jupyter wheels in {WHEELS}: run python tests/fetch_wheels.py first"
    if not any(WHEELS.glob(f"pyzmq-*-{PYTHON_TAG}-*.whl")) and not any(WHEELS.glob("pyzmq-*-abi3-*.whl")):
        return f"the wheels in {WHEELS} are not for {PYTHON_TAG}: run python tests/fetch_wheels.py with this Python"
    return None


@pytest.fixture(scope="session")
def jupyter_wheels() -> Path:
    """The folder of real Jupyter wheels; skip (fail in CI) when it is not there."""
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return WHEELS


@pytest.fixture(scope="session")
def jupyter_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One reprorun cache for the kernel tests that need no fresh one: envs are built once."""
    return tmp_path_factory.mktemp("jupyter-cache")


@pytest.fixture
def nb_run(run_reprorun: Run, jupyter_wheels: Path, jupyter_cache: Path, wheelhouse: Path) -> Run:
    """`reprorun` with this interpreter (the wheels' Python), the Jupyter wheels and the shared cache.

    Both folders are given on the command line: uv takes `--find-links` instead of UV_FIND_LINKS.
    """

    def run(*args: str | os.PathLike[str], cache: Path | None = None, **kwargs: object) -> Completed:
        env = {"REPRORUN_CACHE_DIR": str(cache or jupyter_cache)}
        env.update(cast("dict[str, str]", kwargs.pop("env", None) or {}))
        links = ("--find-links", wheelhouse, "--find-links", jupyter_wheels)
        return run_reprorun("--python", sys.executable, *links, *args, env=env, **kwargs)

    return run


def notebook(*cells: tuple[str, str, list[str]], minor: int = 5) -> str:
    """An nbformat 4 notebook of (kind, source, tags) cells, as Jupyter writes it."""
    made = []
    for number, (kind, source, tags) in enumerate(cells):
        cell: dict[str, object] = {"cell_type": kind, "metadata": {"tags": tags} if tags else {},
                                   "source": source.splitlines(keepends=True)}  # fmt: skip
        if minor >= 5:
            cell["id"] = f"c{number}"
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        made.append(cell)
    data = {"cells": made, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
            "language": "python"}}, "nbformat": 4, "nbformat_minor": minor}  # fmt: skip
    return json.dumps(data, indent=1) + "\n"


def read(path: Path) -> dict[str, Any]:
    """A saved notebook, validated by nbformat (it raises on an invalid one)."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def outputs(cell: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """A cell's outputs of one type."""
    return [o for o in cell.get("outputs", []) if o["output_type"] == kind]


def text(cell: dict[str, Any]) -> str:
    """A cell's stream output."""
    return "".join("".join(o["text"]) if isinstance(o["text"], list) else o["text"] for o in outputs(cell, "stream"))
