"""Work done once (issue 11): in one invocation the block is scanned once, each requirement string
parsed once, the configuration read once, and one use-lock taken. Counted with the prelude of
benchmarks/work_counts.py, in real `reprorun` processes on the test wheelhouse."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from reprorun.script import metadata

pytestmark = pytest.mark.slow

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "work_counts.py"


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("work_counts", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _benchmark()


def distinct_requirements(text: str) -> int:
    """How many different requirement strings the block holds (dependencies and requested)."""
    meta = metadata.parse(text, "s.py")
    return len({*meta.dependencies, *(meta.settings.requested or ())})


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("counts")


@pytest.fixture(scope="module")
def counted(work: Path, wheelhouse: Path) -> dict[str, dict[str, int]]:
    """Every command of the benchmark, in order, against one fresh cache: label -> counts."""
    (work / "run.py").write_text(BENCH.RUN, encoding="utf-8")
    (work / "frozen.py").write_text(BENCH.FROZEN, encoding="utf-8")
    (work / "config.toml").write_text('prune-older-than = "30d"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "REPRORUN_"))}
    env.update(REPRORUN_CONFIG=str(work / "config.toml"), REPRORUN_CACHE_DIR=str(work / "cache"),
               PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse))  # fmt: skip
    found: dict[str, dict[str, int]] = {}
    for label, argv in BENCH.COMMANDS:
        done = subprocess.run([sys.executable, "-c", BENCH.PRELUDE, *argv], cwd=work, env=env,
                              capture_output=True, text=True, check=False, timeout=300)  # fmt: skip
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
        assert last.startswith("{"), f"{label}: {done.stderr}"
        found[label] = ast.literal_eval(last)
    return found


def test_the_benchmark_runs_the_five_commands() -> None:
    labels = [label for label, _ in BENCH.COMMANDS]
    assert len(labels) == 5
    assert labels[0].startswith("cold run")
    assert any(label.startswith("no-op --freeze") for label in labels)


def test_a_cold_run_does_each_piece_of_work_once(counted: dict[str, dict[str, int]]) -> None:
    counts = counted["cold run (pip)"]
    assert counts.get("block scans") == 1
    assert counts.get("config reads") == 1
    assert counts.get("use-locks") == 1
    assert counts.get("requirement parses", 0) == distinct_requirements(BENCH.RUN) == 2


def test_a_second_run_on_the_full_path_does_the_same(counted: dict[str, dict[str, int]]) -> None:
    counts = counted["second run (pip, full path)"]
    assert counts.get("block scans") == 1
    assert counts.get("config reads") == 1
    assert counts.get("use-locks") == 1
    assert counts.get("requirement parses", 0) <= distinct_requirements(BENCH.RUN)


def test_a_warm_run_parses_no_requirement(counted: dict[str, dict[str, int]]) -> None:
    counts = counted["warm run"]
    assert counts.get("requirement parses", 0) == 0
    assert counts.get("block scans") == 1
    assert counts.get("config reads") == 1
    assert counts.get("use-locks") == 1


@pytest.mark.parametrize("label", ["no-op --freeze (7 requirement strings)", "--freeze --check"])
def test_a_no_op_freeze_parses_each_requirement_once(counted: dict[str, dict[str, int]], label: str) -> None:
    counts = counted[label]
    assert counts.get("block scans") == 1
    assert counts.get("config reads") == 1
    assert counts.get("use-locks", 0) == 0  # freezing a current block touches no env
    assert counts.get("requirement parses", 0) == distinct_requirements(BENCH.FROZEN) == 7


def test_the_no_op_freeze_left_the_file_alone(counted: dict[str, dict[str, int]], work: Path) -> None:
    assert (work / "frozen.py").read_text(encoding="utf-8") == BENCH.FROZEN
