"""Over 300 malformed or odd inputs through meta, run, --freeze, add, remove and init.

Not one internal-bug message, traceback or hang; a failed command leaves the file as it was; a
FIFO, socket, device or directory is refused at once, without reading; `meta` prints valid JSON.
Inputs are batched: one process per command runs them all (tests/hostile_worker.py), in-process
through `reprorun.cli.main`, each under an alarm; special files also go through the real command
(its warm path opens the script before the command line is parsed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from hostile_inputs import SPECIAL, inputs, materialize

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("hostile_worker.py")
COMMANDS: dict[str, list[str]] = {
    "meta": ["meta", "{path}"],
    "run": ["--offline", "{path}"],
    "freeze": ["--freeze", "{path}"],
    "add": ["add", "{path}", "alpha"],
    "remove": ["remove", "{path}", "alpha"],
    "init": ["init", "{path}"],
}
ALL = inputs()


def _state(path: Path) -> object:
    """What must not change when a command fails: the bytes and mode (or the kind of special file)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if path.is_symlink() or not path.is_file():
        return ("special", info.st_mode, info.st_ino)
    return (path.read_bytes(), info.st_mode, info.st_uid, info.st_gid)


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> dict[str, list[dict[str, Any]]]:
    """Every command over every input: {command: [result per input, in ALL's order]}."""
    root = tmp_path_factory.mktemp("hostile")
    env = dict(os.environ, REPRORUN_CACHE_DIR=str(root / "cache"))
    env.pop("REPRORUN_CACHE_DIR_UNUSED", None)

    def one(command: str) -> list[dict[str, Any]]:
        folder = root / command
        folder.mkdir()
        paths = [materialize(folder, name, content) for name, content in ALL]
        before = [_state(path) for path in paths]
        tasks = [[part.format(path=path) for part in COMMANDS[command]] for path in paths]
        (folder / "tasks.json").write_text(json.dumps(tasks))
        done = subprocess.run([sys.executable, str(WORKER), str(folder / "tasks.json"), str(folder / "out.json")],
                              env=env, capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        results: list[dict[str, Any]] = json.loads((folder / "out.json").read_text())
        for result, path, old in zip(results, paths, before, strict=True):
            result["changed"] = _state(path) != old
        return results

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(COMMANDS, pool.map(one, COMMANDS), strict=True))


def test_there_are_at_least_300_inputs() -> None:
    assert len(ALL) >= 300


@pytest.mark.parametrize("command", list(COMMANDS))
def test_no_bug_traceback_or_hang_and_failures_change_nothing(outcomes: dict[str, list[dict[str, Any]]],
                                                               command: str) -> None:  # fmt: skip
    problems = []
    for (name, _content), result in zip(ALL, outcomes[command], strict=True):
        code, stderr = result["code"], result["stderr"]
        if result["hung"]:
            problems.append(f"{name}: hung")
        elif result["escaped"]:
            problems.append(f"{name}: an exception escaped:\n{result['escaped'][-1500:]}")
        elif "internal error" in stderr or "Traceback" in stderr:
            problems.append(f"{name}: {stderr.strip()[-800:]}")
        elif code not in (0, 1, 2):
            problems.append(f"{name}: exit {code}")
        elif code != 0 and result["changed"]:
            problems.append(f"{name}: failed (exit {code}) but the file changed")
        elif code != 0 and "reprorun: error: " not in stderr:
            problems.append(f"{name}: failed (exit {code}) without an error line: {stderr.strip()[-300:]}")
        elif stderr.count("\n") > 60:
            problems.append(f"{name}: {stderr.count(chr(10))} lines of messages (warnings are capped)")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_meta_prints_valid_json_or_a_clear_error(outcomes: dict[str, list[dict[str, Any]]]) -> None:
    for (name, _content), result in zip(ALL, outcomes["meta"], strict=True):
        if result["code"] == 0:
            _strict_json(result["stdout"])  # NaN and Infinity are not JSON
        else:
            assert result["code"] in (1, 2), (name, result)


MALFORMED = ("syntax-", "deep-array-500", "deep-array-1000", "deep-array-5000", "deep-array-50000",
             "deep-inline-5000", "deep-inline-50000", "deep-unclosed-", "nb-source-numbers", "nb-source-number",
             "nb-source-dict", "nb-source-mixed", "nb-deep-source-5000", "nb-deep-unclosed-", "nb-raw-not-json",
             "nb-cells-", "date-string-2.py", "special-", "two-blocks", "latin1", "utf16", "binary")  # fmt: skip


def test_malformed_inputs_are_usage_errors(outcomes: dict[str, list[dict[str, Any]]]) -> None:
    wrong = []
    for (name, _content), result in zip(ALL, outcomes["meta"], strict=True):
        if name.startswith(MALFORMED) and result["code"] != 2:
            wrong.append(f"{name}: exit {result['code']}: {result['stderr'].strip()[-300:]}")
    assert not wrong, "\n".join(wrong)


def test_special_files_are_refused_at_once_without_reading(tmp_path: Path, reprorun_exe: Path) -> None:
    """Through the real command, so the warm path (which opens the script first) is covered too."""
    for kind in SPECIAL:
        path = materialize(tmp_path, f"special-{kind}.py", kind)
        commands: list[list[str | Path]] = [[path], ["meta", path], ["--freeze", path], ["add", path, "alpha"],
                                            ["cells", path]]
        if kind == "dangling-symlink":  # `add` creates a missing script (through the link): not refused
            commands.remove(["add", path, "alpha"])
        for argv in commands:
            start = time.monotonic()
            done = subprocess.run([str(reprorun_exe), *map(str, argv)], capture_output=True, text=True,
                                  timeout=30, check=False, stdin=subprocess.DEVNULL)  # fmt: skip
            assert done.returncode == 2, (kind, argv, done.stderr)
            assert done.stderr.startswith("reprorun: error: "), (kind, argv, done.stderr)
            assert "Traceback" not in done.stderr
            assert time.monotonic() - start < 10, (kind, argv)
    for device in ("/dev/zero", "/dev/null"):
        done = subprocess.run([str(reprorun_exe), device], capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr


@pytest.mark.parametrize("date", ["0001-01-01", "0001-01-01T00:00:00+01:00", "0001-01-02T00:30:00-00:31",
                                  "9999-12-31", "9999-12-31T23:59:59Z", "9999-12-30T23:59:59-01:00",
                                  "2024-02-29"])  # fmt: skip
def test_edge_dates_round_trip_with_four_digit_years(tmp_path: Path, run_reprorun, date: str) -> None:
    script = tmp_path / "dated.py"
    script.write_text('# /// script\n# dependencies = ["alpha"]\n# ///\n')
    frozen = run_reprorun("--freeze", "--exclude-newer", date, script)
    if frozen.returncode != 0:  # a date pip cannot use is refused as bad input, never a crash
        assert frozen.returncode == 2 and "internal error" not in frozen.stderr, frozen.stderr
        assert script.read_text() == '# /// script\n# dependencies = ["alpha"]\n# ///\n'
        return
    text = script.read_text()
    assert f'exclude-newer = "{date}"' in text, text
    meta = run_reprorun("meta", script)
    assert meta.returncode == 0, meta.stderr
    assert _strict_json(meta.stdout)["tool"]["reprorun"]["exclude-newer"] == date  # type: ignore[index]
    again = run_reprorun("--freeze", script)
    assert again.returncode == 0 and script.read_text() == text, again.stderr


@pytest.mark.parametrize("literal", ["0001-01-01", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_toml_date_literals_keep_four_digit_years(tmp_path: Path, run_reprorun, literal: str) -> None:
    script = tmp_path / "literal.py"
    script.write_text(f"# /// script\n# dependencies = []\n# [tool.other]\n# when = {literal}\n# ///\n")
    meta = run_reprorun("meta", script)
    assert meta.returncode == 0, meta.stderr
    assert _strict_json(meta.stdout)["tool"]["other"]["when"].startswith(literal[:10])  # type: ignore[index]
    added = run_reprorun("add", script, "alpha")
    assert added.returncode == 0, added.stderr
    assert f"when = {literal}" in script.read_text()


def test_toml_nan_and_inf_are_valid_json(tmp_path: Path, run_reprorun) -> None:
    script = tmp_path / "nan.py"
    script.write_text("# /// script\n# dependencies = []\n# [tool.x]\n# a = nan\n# b = -inf\n# c = [inf, 1.5]\n# ///\n")
    meta = run_reprorun("meta", script)
    assert meta.returncode == 0, meta.stderr
    assert _strict_json(meta.stdout)["tool"]["x"] == {"a": "nan", "b": "-inf", "c": ["inf", 1.5]}  # type: ignore[index]


def test_copies_of_the_inputs_are_cleaned(tmp_path: Path) -> None:
    """materialize() makes every kind it names (a guard on the generator itself)."""
    for name, content in ALL:
        path = materialize(tmp_path, name, content)
        assert os.path.lexists(path), name
    shutil.rmtree(tmp_path, ignore_errors=True)
