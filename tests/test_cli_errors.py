"""The command line's error contract: options of --freeze alone, `--help` listing only commands that
exist, a bug reported as one (traceback with -v), and `sync` telling each failure once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RunReprorun
from reprorun import cli
from reprorun.commandline.argv import split_argv
from reprorun.commands import meta
from reprorun.errors import InternalError

SIDE_EFFECT = """\
# /// script
# dependencies = []
# ///
from pathlib import Path
Path(__file__).with_name("ran.txt").write_text("it ran")
"""


def exit_code(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


# --- options of --freeze alone ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--upgrade"], "--upgrade"),
        (["--hashes"], "--hashes"),
        (["--dry-run"], "--dry-run"),
        (["--check"], "--check"),
        (["--exclude-newer", "2024-06-01"], "--exclude-newer"),
        (["--upgrade-package", "alpha"], "--upgrade-package"),
    ],
)
def test_a_freeze_option_without_freeze_is_a_usage_error_and_runs_nothing(
    run_reprorun: RunReprorun, tmp_path: Path, cache_dir: Path, options: list[str], named: str
) -> None:
    script = tmp_path / "ok.py"
    script.write_text(SIDE_EFFECT, encoding="utf-8")
    result = run_reprorun(*options, script, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (f"reprorun: error: {named} only goes with --freeze\n"
                             f"hint: reprorun --freeze {named} {script}\n")  # fmt: skip
    assert result.stdout == ""
    assert not (tmp_path / "ran.txt").exists()
    assert not list((cache_dir / "envs").glob("*")) if (cache_dir / "envs").exists() else True
    assert script.read_text(encoding="utf-8") == SIDE_EFFECT


def test_several_freeze_options_are_named_together(run_reprorun: RunReprorun, tmp_path: Path) -> None:
    script = tmp_path / "ok.py"
    script.write_text(SIDE_EFFECT, encoding="utf-8")
    result = run_reprorun("--dry-run", "--check", "--upgrade", script, cwd=tmp_path)
    assert result.returncode == 2
    first, hint = result.stderr.splitlines()
    assert first == "reprorun: error: --upgrade, --dry-run, --check only go with --freeze"
    assert hint == f"hint: reprorun --freeze --upgrade --dry-run --check {script}"
    assert not (tmp_path / "ran.txt").exists()


def test_freeze_options_after_the_script_are_the_scripts(run_reprorun: RunReprorun, tmp_path: Path) -> None:
    script = tmp_path / "echo.py"
    script.write_text("# /// script\n# dependencies = []\n# ///\nimport sys\nprint(sys.argv[1:])\n", encoding="utf-8")
    result = run_reprorun(script, "--upgrade", "--check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['--upgrade', '--check']"


def test_freeze_only_table_matches_the_parser() -> None:
    parser = cli.global_parser()
    dests = {action.dest for action in parser._actions}
    assert set(cli.FREEZE_ONLY) <= dests
    helps = {action.dest: action.help or "" for action in parser._actions}
    assert {d for d, h in helps.items() if h.startswith("with --freeze")} == set(cli.FREEZE_ONLY)


# --- --help lists exactly the commands that exist ------------------------------------------------------


def test_help_epilog_lists_exactly_the_present_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(["--help"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"commands: (.*?)\s+\(reprorun COMMAND --help\)", out, re.S)
    assert match is not None
    listed = [name.strip() for name in " ".join(match.group(1).split()).split(",")]
    folder = Path(cli.__file__).parent / "commands"
    assert listed == [n for n, m in cli.COMMANDS.items() if (folder / f"{m}.py").is_file()]
    assert listed == cli.available_commands()


@pytest.fixture
def trimmed_copy(tmp_path: Path) -> Path:
    """A copy of the installed package without commands/export.py (as a smaller build would ship)."""
    dest = tmp_path / "src"
    shutil.copytree(Path(cli.__file__).parent, dest / "reprorun",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    (dest / "reprorun" / "commands" / "export.py").unlink()
    return dest


def test_help_of_a_copy_without_a_command_module_does_not_list_it(trimmed_copy: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(trimmed_copy))
    done = subprocess.run([sys.executable, "-m", "reprorun", "--help"], capture_output=True, text=True, env=env,
                          check=False, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    epilog = " ".join(done.stdout.split("commands: ", 1)[1].split())
    assert "export" not in epilog
    assert "meta" in epilog
    unavailable = subprocess.run([sys.executable, "-m", "reprorun", "export", "x.py"], capture_output=True,
                                 text=True, env=env, check=False, timeout=60)  # fmt: skip
    assert unavailable.returncode == 2
    assert unavailable.stderr == "reprorun: error: 'export' is not available in this version of reprorun\n"


# --- a bug says so -------------------------------------------------------------------------------------


@pytest.fixture
def buggy_meta(monkeypatch: pytest.MonkeyPatch) -> None:
    """`reprorun meta` with a programming error in it (the CLI's handling is what is tested)."""

    def run(name: object, ns: object, options: object) -> int:
        table: dict[str, int] = {}
        return table["missing"]

    monkeypatch.setattr(meta, "run", run)


@pytest.mark.usefixtures("buggy_meta")
def test_an_unexpected_exception_is_reported_as_a_bug(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(["meta", "x.py"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("reprorun: internal error: KeyError: 'missing'\n"
                            "hint: this is a bug in reprorun; rerun with -v for the traceback and report it\n")


@pytest.mark.usefixtures("buggy_meta")
def test_verbose_shows_the_traceback() -> None:
    with pytest.raises(KeyError, match="missing"):
        cli.main(["-v", "meta", "x.py"])


def test_verbose_shows_the_traceback_from_the_installed_command(run_reprorun: RunReprorun, tmp_path: Path) -> None:
    # A real bug is hard to come by on purpose: a sitecustomize breaks `meta` in the child only.
    (tmp_path / "sitecustomize.py").write_text(
        "import reprorun.commands.meta as m\n"
        "def run(name, ns, options):\n    raise ZeroDivisionError('planted')\n"
        "m.run = run\n", encoding="utf-8")  # fmt: skip
    script = tmp_path / "s.py"
    script.write_text("# /// script\n# dependencies = []\n# ///\n", encoding="utf-8")
    env = {"PYTHONPATH": str(tmp_path)}
    quiet = run_reprorun("meta", script, env=env)
    assert quiet.returncode == 1
    assert quiet.stderr.splitlines() == ["reprorun: internal error: ZeroDivisionError: planted",
        "hint: this is a bug in reprorun; rerun with -v for the traceback and report it"]  # fmt: skip
    loud = run_reprorun("-v", "meta", script, env=env)
    assert loud.returncode == 1
    assert "Traceback (most recent call last):" in loud.stderr
    assert loud.stderr.rstrip().endswith("ZeroDivisionError: planted")


def test_an_internal_error_is_rendered_without_v_and_raised_with_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(name: object, ns: object, options: object) -> int:
        raise InternalError("a check of our own output failed")

    monkeypatch.setattr(meta, "run", run)
    assert exit_code(["meta", "x.py"]) == 1
    assert capsys.readouterr().err.startswith("reprorun: internal error: a check of our own output failed\nhint: ")
    with pytest.raises(InternalError):
        cli.main(["--verbose", "meta", "x.py"])


def test_a_scripts_own_verbose_flag_is_not_reprorun_s() -> None:
    parser = cli.global_parser(add_help=False)
    own = split_argv(["s.py", "-v"], parser)[0]
    assert own == []
    assert split_argv(["-v", "s.py", "-v"], parser)[0] == ["-v"]


def test_a_usage_error_is_not_a_bug(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert exit_code(["meta", str(tmp_path / "missing.py")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reprorun: error: ")
    assert "bug" not in err


# --- sync tells each failure once and goes on ----------------------------------------------------------


def test_sync_reports_each_failing_script_once_as_an_error(run_reprorun: RunReprorun, tmp_path: Path) -> None:
    invalid = tmp_path / "invalid.py"
    invalid.write_text('# /// script\n# dependencies = ["not a requirement !!"]\n# ///\n', encoding="utf-8")
    missing = tmp_path / "missing.py"
    good = tmp_path / "good.py"
    good.write_text("# /// script\n# dependencies = []\n# ///\n", encoding="utf-8")
    result = run_reprorun("sync", invalid, missing, good)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("reprorun: error:")]
    assert len(errors) == 2
    assert "warning" not in result.stderr
    assert errors[0].startswith(f"reprorun: error: {invalid}:2: ")
    assert errors[1].startswith("reprorun: error: ") and str(missing) in errors[1]
    for path in (invalid, missing):
        assert result.stderr.count(str(path)) == 1, result.stderr
    assert len(result.stdout.splitlines()) == 1  # the good script's env, after both failures
    assert Path(result.stdout.strip()).is_dir()


@pytest.mark.usefixtures("buggy_meta")
@pytest.mark.parametrize("argv", [["meta", "-v", "x.py"], ["meta", "x.py", "--verbose"], ["-vv", "meta", "x.py"]])
def test_verbose_after_a_command_is_reprorun_s_too(argv: list[str]) -> None:
    # A command's options are all reprorun's: the hint's "rerun with -v" works wherever -v goes.
    with pytest.raises(KeyError, match="missing"):
        cli.main(argv)
