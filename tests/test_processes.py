"""processes.py: the one subprocess seam — argv only, output captured and shown only on failure."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from reprorun import processes
from reprorun.processes import Result


def test_output_joins_stdout_and_stderr_without_blank_ends() -> None:
    assert Result(("x",), 0, "out\n\n", "\nerr\n").output == "out\nerr"
    assert Result(("x",), 0, "", "err").output == "err"
    assert Result(("x",), 0, "  ", "").output == ""


def test_tail_is_the_last_lines() -> None:
    result = Result(("x",), 1, "\n".join(f"o{i}" for i in range(5)), "\n".join(f"e{i}" for i in range(20)))
    assert result.tail(3) == "e17\ne18\ne19"
    assert result.tail().splitlines() == [f"e{i}" for i in range(8, 20)]
    assert Result(("x",), 1, "a", "").tail(5) == "a"


def test_run_captures_both_streams_and_the_status() -> None:
    code = "import sys; print('to out'); print('to err', file=sys.stderr); sys.exit(3)"
    result = processes.run([sys.executable, "-c", code])
    assert result.argv == (sys.executable, "-c", code)
    assert result.returncode == 3
    assert result.stdout == "to out\n"
    assert result.stderr == "to err\n"


def test_run_gives_no_stdin_unless_asked() -> None:
    code = "import sys; print(repr(sys.stdin.read()))"
    assert processes.run([sys.executable, "-c", code]).stdout == "''\n"
    assert processes.run([sys.executable, "-c", code], input_text="hello").stdout == "'hello'\n"


def test_run_never_uses_a_shell() -> None:
    result = processes.run([sys.executable, "-c", "import sys; print(sys.argv[1:])", "$HOME", "a b", ";ls"])
    assert result.stdout == "['$HOME', 'a b', ';ls']\n"


def test_run_replaces_undecodable_output() -> None:
    code = "import sys; sys.stdout.buffer.write(b'ok\\xff\\n')"
    assert processes.run([sys.executable, "-c", code]).stdout == "ok\ufffd\n"


def test_run_in_a_folder_with_an_environment(tmp_path: Path) -> None:
    code = "import os; print(os.getcwd()); print(os.environ.get('ONLY_HERE'))"
    result = processes.run([sys.executable, "-c", code], cwd=str(tmp_path), env=processes.environ(ONLY_HERE="1"))
    assert result.stdout.splitlines() == [str(tmp_path), "1"]


def test_run_streamed_lets_the_output_through(capfd: pytest.CaptureFixture[str]) -> None:
    code = "import sys; print('line out'); print('line err', file=sys.stderr); sys.exit(2)"
    result = processes.run([sys.executable, "-c", code], stream=True)
    assert result == Result((sys.executable, "-c", code), 2, "", "")
    captured = capfd.readouterr()
    assert captured.out == ""  # stdout belongs to the script: a streamed tool writes to stderr
    assert "line out" in captured.err and "line err" in captured.err


def test_run_logs_the_command_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.DEBUG, logger="reprorun"):
        processes.run([sys.executable, "-c", "pass"])
    assert [r.getMessage() for r in caplog.records] == [f"$ {sys.executable} -c pass"]


def test_environ_sets_and_removes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROP_ME", "1")
    monkeypatch.setenv("KEEP_ME", "2")
    env = processes.environ(DROP_ME=None, NEW_ONE="3", ABSENT=None)
    assert "DROP_ME" not in env and "ABSENT" not in env
    assert env["KEEP_ME"] == "2"
    assert env["NEW_ONE"] == "3"
    import os

    assert os.environ["DROP_ME"] == "1"  # a copy
