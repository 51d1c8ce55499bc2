"""Repeated warnings are capped (issue 19): thousands of problems in one input print at most
notices.SHOWN warnings and one line counting the rest, through the real `reprorun` command."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from conftest import RunReprorun
from reprorun import notices

MANY = 3000
WARNING = "reprorun: warning: "


def warnings_of(stderr: str) -> list[str]:
    return [line.removeprefix(WARNING) for line in stderr.splitlines() if line.startswith(WARNING)]


def assert_capped(told: list[str], where: str, total: int, hints: int = 0) -> None:
    """The first SHOWN warnings (and their hints, once each), then the count of the rest, last."""
    assert len(told) == notices.SHOWN + hints + 1, told
    assert told[-1] == f"{where}: {total - notices.SHOWN} more warnings like these not shown"
    assert sum(line.startswith("hint: ") for line in told) == hints


def test_inferred_install_lines_and_imports_are_capped(tmp_path: Path, run_reprorun: RunReprorun) -> None:
    script = tmp_path / "many.py"
    script.write_text(
        "".join(f"!pip install -r req{i}.txt\n" for i in range(MANY))
        + "".join(f"try:\n    import optional{i}\nexcept ImportError:\n    pass\n" for i in range(MANY))
    )
    result = run_reprorun("init", "--infer", "--dry-run", script.name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    told = warnings_of(result.stderr)
    assert_capped(told, "many.py", 2 * MANY)
    assert told[0] == "many.py: line 1: '-r req0.txt' is not supported: add those requirements to the block yourself"
    assert script.read_text().startswith("!pip install -r req0.txt\n")  # --dry-run wrote nothing


def test_notebook_inference_is_capped(tmp_path: Path, run_reprorun: RunReprorun) -> None:
    cells: list[dict[str, object]] = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": [f"%pip install -e ./pkg{i}\n"]} for i in range(MANY)]  # fmt: skip
    notebook = tmp_path / "many.ipynb"
    notebook.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    result = run_reprorun("init", "--infer", "--dry-run", notebook.name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    told = warnings_of(result.stderr)
    assert_capped(told, "many.ipynb", MANY)
    assert "cell 1" in told[0]


def test_adopted_requirement_lines_are_capped(tmp_path: Path, run_reprorun: RunReprorun) -> None:
    (tmp_path / "requirements.txt").write_text("".join(f"-e ./pkg{i}\n" for i in range(MANY)) + "attrs\n")
    (tmp_path / "s.py").write_text("print(1)\n")
    result = run_reprorun("init", "--from", "requirements.txt", "--dry-run", "s.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_capped(warnings_of(result.stderr), "requirements.txt", MANY)
    assert '"attrs"' in result.stdout


def test_block_notices_are_capped_with_their_hint_once(tmp_path: Path, run_reprorun: RunReprorun) -> None:
    keys = "".join(f"# unknown{i} = 1\n" for i in range(MANY))
    (tmp_path / "s.py").write_text(f"# /// script\n# dependencies = []\n# [tool.reprorun]\n{keys}# ///\n")
    result = run_reprorun("meta", "s.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    told = warnings_of(result.stderr)
    assert_capped(told, "s.py", MANY, hints=1)
    assert told[0] == "s.py:4: unknown key 'unknown0' in [tool.reprorun] ignored"


def test_config_file_keys_are_capped(tmp_path: Path, run_reprorun: RunReprorun) -> None:
    config = tmp_path / "config.toml"
    config.write_text("".join(f"unknown{i} = 1\n" for i in range(MANY)))
    result = run_reprorun("cache", "dir", cwd=tmp_path, env={"REPRORUN_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    told = warnings_of(result.stderr)  # told as reprorun's warnings: logging is set up before the file is read
    assert_capped(told, str(config), MANY)
    assert told[0] == f"{config}:1: unknown key 'unknown0' ignored"


# --- the helper itself, with the real logger ---------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, notices.SHOWN, notices.SHOWN + 1, 10_000])
def test_warn_all_tells_at_most_shown_then_counts(count: int, caplog: pytest.LogCaptureFixture) -> None:
    said: list[int] = []

    def say(item: int) -> str:
        said.append(item)
        return f"f.py:{item}: odd"

    with caplog.at_level(logging.WARNING, logger="reprorun"):
        notices.warn_all("f.py", range(count), say)
    messages = [record.getMessage() for record in caplog.records]
    shown = min(count, notices.SHOWN)
    assert messages[:shown] == [f"f.py:{i}: odd" for i in range(shown)]
    assert said == list(range(shown))  # the rest are counted, never rendered
    if count > notices.SHOWN:
        assert messages[shown:] == [f"f.py: {count - notices.SHOWN} more warnings like these not shown"]
    else:
        assert len(messages) == shown


def test_warn_all_gives_each_hint_once(caplog: pytest.LogCaptureFixture) -> None:
    items = [("a", "same advice"), ("b", "same advice"), ("c", None), ("d", "other advice")]
    with caplog.at_level(logging.WARNING, logger="reprorun"):
        notices.warn_all("f.py", items, lambda item: item)
    assert [r.getMessage() for r in caplog.records] == ["a", "hint: same advice", "b", "c", "d", "hint: other advice"]


def test_names_lists_at_most_twenty() -> None:
    assert notices.names(["a", "b", "a"]) == "a, b"
    many = notices.names(f"m{i}" for i in range(5000))
    assert many.endswith(" and 4,980 more")
    assert many.count(",") == 19 + 1  # twenty names, and the thousands separator
