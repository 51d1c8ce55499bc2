"""The command line: help, version, the dispatch rule, and `meta`'s exit codes and messages."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import reprorun
from reprorun import cli
from reprorun.commandline.argv import split_argv

COMMANDS_DIR = Path(cli.__file__).parent / "commands"
PRESENT = sorted(
    name for name, module in cli.COMMANDS.items() if (COMMANDS_DIR / f"{module}.py").is_file()
)
VALID = '# /// script\n# requires-python = ">=3.10"\n# dependencies = ["alpha>=1"]\n# ///\n'


def exit_code(argv: list[str]) -> int:
    """Run `cli.main` in-process; argparse's own exits (help, usage) become their codes."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


# --- help and version ------------------------------------------------------------------------


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: reprorun")
    for name in cli.COMMANDS:
        assert name in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(["--version"]) == 0
    # issue 18: the version line names the Python reprorun runs on
    assert capsys.readouterr().out.strip().startswith(f"reprorun {reprorun.__version__} (Python 3.")


def test_some_commands_are_present() -> None:
    assert {"meta", "cells"} <= set(PRESENT)


@pytest.mark.parametrize("name", PRESENT)
def test_each_present_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: reprorun {name}")


def test_every_command_module_is_reachable() -> None:
    modules = {p.stem for p in COMMANDS_DIR.glob("*.py")} - {"__init__"}
    # run, freeze and execute are reached as `reprorun SCRIPT`, `reprorun --freeze SCRIPT` and
    # `reprorun --output OUT.ipynb SCRIPT`.
    assert modules <= set(cli.COMMANDS.values()) | {"run", "freeze", "execute"}


def test_no_script_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code([]) == 2
    assert "reprorun: error: no script given" in capsys.readouterr().err


# --- the dispatch rule (DESIGN §2) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "script"),
    [
        ("meta", False),
        ("env", False),
        ("cache", False),
        ("./env", True),
        ("sub/meta", True),
        ("/abs/path/cells", True),
        ("env.py", True),
        ("notebook.ipynb", True),
        ("-", True),
        ("analysis", True),  # not a command: a script
    ],
)
def test_is_script(
    word: str, script: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.is_script(word) is script


def test_an_existing_file_named_like_a_command_is_a_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert not cli.is_script("env")
    (tmp_path / "env").write_text("print('I am a script')\n")
    assert cli.is_script("env")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["meta", "s.py"], ([], "meta", ["s.py"])),
        (["--python", "3.11", "meta", "s.py"], (["--python", "3.11"], "meta", ["s.py"])),
        (["-v", "s.py", "--help", "-v"], (["-v"], "s.py", ["--help", "-v"])),
        (["--cache-dir=/c", "./env", "a"], (["--cache-dir=/c"], "./env", ["a"])),
        (["--find-links", "w", "--no-index", "-"], (["--find-links", "w", "--no-index"], "-", [])),
        (["-q", "--", "-odd.py", "x"], (["-q"], "-odd.py", ["x"])),
        (["--offline"], (["--offline"], None, [])),
    ],
)
def test_split_argv(argv: list[str], expected: tuple[list[str], str | None, list[str]]) -> None:
    assert split_argv(argv, cli.global_parser()) == expected


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Replace the command modules with one that records how it was called."""
    calls: list[tuple[str, Any]] = []

    def module(name: str) -> SimpleNamespace:
        def run_script(path: str, args: list[str], ns: object, options: object) -> int:
            calls.append((name, (path, args)))
            return 0

        def run(command: str, ns: Any, options: object) -> int:
            calls.append((name, (command, ns.script)))
            return 0

        return SimpleNamespace(
            run_script=run_script,
            run=run,
            describe=lambda command: command,
            configure=lambda command, parser: parser.add_argument("script"),
        )

    monkeypatch.setattr(cli, "_command_module", module)
    return calls


def test_dot_slash_env_runs_as_a_script(
    recorded: list[tuple[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["./env", "--flag"]) == 0
    assert cli.main(["env", "s.py"]) == 0
    assert cli.main(["--freeze", "env.py"]) == 0
    (tmp_path / "env").write_text("print('hi')\n")
    assert cli.main(["env", "x"]) == 0
    assert recorded == [
        ("run", ("./env", ["--flag"])),
        ("env", ("env", "s.py")),
        ("freeze", ("env.py", [])),
        ("run", ("env", ["x"])),
    ]


# --- meta ----------------------------------------------------------------------------------


def test_meta_prints_json_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.py"
    path.write_text(VALID + "print(1)\n")
    assert cli.main(["meta", str(path)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"requires-python": ">=3.10", "dependencies": ["alpha>=1"]}
    assert captured.err == ""


def test_meta_without_a_block_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.py"
    path.write_text("print(1)\n")
    assert cli.main(["meta", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines()[0] == f"reprorun: error: {path}: no '# /// script' block"


def test_meta_unclosed_block_warns_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.py"
    path.write_text("# /// script\n# dependencies = []\n")
    assert cli.main(["meta", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"reprorun: warning: {path}:1: unclosed '# /// script' block ignored" in err


def test_meta_invalid_block_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.py"
    path.write_text("import os\n# /// script\n# dependencies = [\n#   'bad req!',\n# ]\n# ///\n")
    assert cli.main(["meta", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0].startswith(f"reprorun: error: {path}:4: invalid requirement 'bad req!'")
    assert lines[1].strip() == "#   'bad req!',"
    assert lines[2].strip() == "^"


def test_meta_pep722_exits_0_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.py"
    path.write_text("# Script Dependencies:\n#   alpha\n\nimport alpha\n")
    assert cli.main(["meta", str(path)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"dependencies": ["alpha"]}
    assert "PEP 722" in captured.err
    assert "reprorun init --infer" in captured.err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.py", "no such file"),
        (lambda d: d, "is a directory, not a script"),
        (lambda d: _write_bytes(d / "latin1.py", b"x = 1\n# caf\xe9\n"), ":2: not UTF-8 text"),
    ],
    ids=["missing", "directory", "not-utf8"],
)
def test_bad_input_file_is_one_clear_line(
    make: Any, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path)
    assert cli.main(["meta", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    first, *rest = captured.err.splitlines()
    assert first.startswith(f"reprorun: error: {path}")
    assert message in first
    assert all(line.startswith("hint: ") for line in rest)
    assert "Traceback" not in captured.err


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- cells ---------------------------------------------------------------------------------


def test_cells_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.py"
    path.write_text("import os\n# %% Load\nx = 1\n# %% [markdown]\n# # Notes\n")
    assert cli.main(["cells", "--json", str(path)]) == 0
    cells = json.loads(capsys.readouterr().out)
    assert [(c["index"], c["title"], c["kind"], c["first_line"], c["last_line"]) for c in cells] == [
        (0, "", "code", 1, 1),
        (1, "Load", "code", 2, 3),
        (2, "", "markdown", 4, 5),
    ]


# --- through the installed command ----------------------------------------------------------


def test_installed_command_version(run_reprorun: Any) -> None:
    result = run_reprorun("--version")
    assert result.returncode == 0
    assert result.stdout.strip().startswith(f"reprorun {reprorun.__version__} (Python 3.")


def test_installed_command_meta_exit_codes(run_reprorun: Any, tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text(VALID)
    (tmp_path / "none.py").write_text("print(1)\n")
    (tmp_path / "bad.py").write_text("# /// script\n# requires-python = 3\n# ///\n")
    ok = run_reprorun("meta", "ok.py", cwd=tmp_path)
    assert (ok.returncode, ok.stderr) == (0, "")
    assert json.loads(ok.stdout)["dependencies"] == ["alpha>=1"]
    none = run_reprorun("meta", "none.py", cwd=tmp_path)
    assert none.returncode == 1
    assert none.stderr.startswith("reprorun: error: none.py: no '# /// script' block")
    bad = run_reprorun("meta", "bad.py", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.startswith("reprorun: error: bad.py:2: 'requires-python' must be a string")


def test_installed_command_meta_reads_stdin(run_reprorun: Any) -> None:
    result = run_reprorun("meta", "-", input=VALID)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["requires-python"] == ">=3.10"


def test_installed_command_bad_files(run_reprorun: Any, tmp_path: Path) -> None:
    (tmp_path / "bin.py").write_bytes(b"\xff\xfe\x00")
    for target in ("missing.py", os.fspath(tmp_path), "bin.py"):
        result = run_reprorun("meta", target, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith("reprorun: error: ")
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


def test_cells_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.py"
    path.write_text("import os\n# %% Load\nx = 1\n")
    assert cli.main(["cells", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "cell  lines        kind      title",
        "   0  1-1          code      (preamble)",
        "   1  2-3          code      Load",
    ]
