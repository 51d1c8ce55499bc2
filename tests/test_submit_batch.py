"""cluster/batch.py: `#SBATCH` lines read as sbatch reads them, and the batch script written.

The reading rules follow Slurm's src/sbatch/opt.c; `test_sbatch_reads_what_we_read` checks them
against the real sbatch where the test cluster runs (tests/test_submit_slurm.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reprorun.cluster import batch
from reprorun.errors import UsageError

HEADER = """\
#!/usr/bin/env reprorun
# /// script
# dependencies = []
# ///
#SBATCH --time=10   # minutes
#SBATCH -J "two words" --mem=1G
  # an indented comment does not stop sbatch

#SBATCH --comment='it''s' #ignored
#SBATCH --output=a\\ b
#SBATCHnospace
#sbatch --lower=ignored
import os
#SBATCH --after=ignored
"""


def test_directives_are_read_until_the_first_command() -> None:
    found = batch.directives(HEADER, "s.py")
    assert [d.line for d in found] == [5, 6, 9, 10, 11]
    assert [d.args for d in found] == [
        ("--time=10",),
        ("-J", "two words", "--mem=1G"),
        ("--comment=its",),
        ("--output=a", "b"),  # sbatch tests for white space before it applies the escape
        ("nospace",),
    ]
    assert found[1].text == '#SBATCH -J "two words" --mem=1G'
    assert batch.ignored(HEADER) == [14]


def test_crlf_lines_are_read_without_their_carriage_return() -> None:
    found = batch.directives("#!/bin/sh\r\n#SBATCH --time=5\r\necho\r\n", "s")
    assert found[0].text == "#SBATCH --time=5"
    assert found[0].args == ("--time=5",)


@pytest.mark.parametrize(
    ("rest", "words"),
    [
        (' --a="x y" b', ["--a=x y", "b"]),
        (" 'a \"b\" c'", ['a "b" c']),
        (' "a\\"b"', ['a"b']),
        (" a\\#b #c", ["a#b"]),
        (' "#in quotes" x', ["#in quotes", "x"]),
        (' "" --skipped', []),  # an empty word ends sbatch's reading of the line
        (" a#b c", ["a"]),
        ("   ", []),
        (" trailing\\", ["trailing"]),
    ],
)
def test_split_follows_sbatch(rest: str, words: list[str]) -> None:
    assert batch.split(rest, "s.py", 3) == words


def test_unmatched_quote_and_colon_name_the_line() -> None:
    with pytest.raises(UsageError, match=r"^s\.py:7: unmatched \" in an #SBATCH line"):
        batch.directives("#!/bin/sh\n" * 6 + '#SBATCH --x="open\n', "s.py")
    with pytest.raises(UsageError, match=r"^s\.py:2: unexpected ':'"):
        batch.directives("#!/bin/sh\n#SBATCH :\n", "s.py")
    with pytest.raises(UsageError, match=r"^s\.py:2: heterogeneous jobs"):
        batch.directives("#!/bin/sh\n#SBATCH hetjob\n", "s.py")


@given(st.text(alphabet=st.characters(blacklist_characters="\n\r\0", blacklist_categories=["Cs"]), min_size=1))
def test_quote_round_trips_through_the_reader(arg: str) -> None:
    assert batch.split(" " + batch.quote(arg), "s", 1) == [arg]


def test_quote_refuses_what_no_line_can_hold() -> None:
    for bad in ("", "a\nb", "a\rb"):
        with pytest.raises(UsageError):
            batch.quote(bad)


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (["--array=0-3"], "0-3"),
        (["--array", "1,2"], "1,2"),
        (["-a5-9"], "5-9"),
        (["-a", "7"], "7"),
        (["--array=1", "--time=5", "--array=2"], "2"),
        (["--arrayx=1"], None),
        (["--time=5"], None),
    ],
)
def test_option_takes_the_last_value(args: list[str], value: str | None) -> None:
    assert batch.option(args, "array", "a") == value


def _batch(tmp_path: Path, **changes: object) -> batch.Batch:
    fields: dict[str, object] = {
        "source": "analysis.py",
        "snapshot": str(tmp_path / "snap" / "src" / "analysis.py"),
        "folder": str(tmp_path / "snap"),
        "command": (sys.executable,),
        "cache_root": str(tmp_path / "cache dir"),
        "env_key": "0123456789abcdef0123456789",
    }
    fields.update(changes)
    return batch.Batch(**fields)  # type: ignore[arg-type]


def test_render_orders_defaults_script_lines_and_command_line(tmp_path: Path) -> None:
    directives = tuple(batch.directives(HEADER, "analysis.py"))
    text = batch.render(_batch(tmp_path, script_directives=directives, options=("--array=0-3", "--time=20")))
    sbatch_lines = [line for line in text.splitlines() if line.startswith("#SBATCH")]
    assert sbatch_lines[:3] == [
        "#SBATCH --job-name=analysis",
        f"#SBATCH --output={tmp_path}/snap/logs/%A_%a.out",
        f"#SBATCH --error={tmp_path}/snap/logs/%A_%a.err",
    ]
    assert sbatch_lines[3:8] == [d.text for d in directives]
    assert sbatch_lines[8:] == ["#SBATCH --array=0-3", "#SBATCH --time=20"]
    assert f"export REPRORUN_CACHE_DIR='{tmp_path}/cache dir'" in text
    with_lock = batch.render(_batch(tmp_path, environment=(("REPRORUN_LOCK", "mkdir"), ("REPRORUN_CONFIG", "/a b"))))
    assert "\nexport REPRORUN_LOCK=mkdir\nexport REPRORUN_CONFIG='/a b'\n" in with_lock
    assert "key 0123456789abcdef0123" in text
    assert subprocess.run(["bash", "-n"], input=text, text=True, check=False).returncode == 0


def test_log_names_without_an_array_use_the_job_id(tmp_path: Path) -> None:
    text = batch.render(_batch(tmp_path))
    assert f"--output={tmp_path}/snap/logs/%j.out" in text
    with_array_in_script = _batch(tmp_path, script_directives=tuple(batch.directives("#SBATCH -a 1-2\n", "s")))
    assert "%A_%a.out" in batch.render(with_array_in_script)


def _argv_dumper(tmp_path: Path) -> Path:
    script = tmp_path / "snap" / "src" / "analysis.py"
    script.parent.mkdir(parents=True)
    script.write_text("import json, os, sys\nprint(json.dumps([os.environ['REPRORUN_CACHE_DIR'], *sys.argv[1:]]))\n")
    return script


NASTY = ["plain", "with space", "it's", 'say "hi"', "$HOME", "`id`", "$(id)", "a;b|c&d", "*", "-n", "{x}", "back\\slash", "new\nline", "ü"]  # noqa: E501


def test_fixed_arguments_arrive_intact(tmp_path: Path) -> None:
    _argv_dumper(tmp_path)
    text = batch.render(_batch(tmp_path, args=tuple(NASTY)))
    out = subprocess.run(["bash"], input=text, capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [str(tmp_path / "cache dir"), *NASTY]


def test_each_task_gets_its_own_arguments(tmp_path: Path) -> None:
    _argv_dumper(tmp_path)
    tasks = tuple((f"--row={i}", value) for i, value in enumerate(NASTY))
    path = tmp_path / "batch.sh"
    path.write_text(batch.render(_batch(tmp_path, task_args=tasks)))
    for task, args in enumerate(tasks):
        env = {"SLURM_ARRAY_TASK_ID": str(task), "PATH": "/usr/bin:/bin"}
        out = subprocess.run(["bash", str(path)], env=env, capture_output=True, text=True, check=True).stdout
        assert json.loads(out)[1:] == list(args)
    missing = subprocess.run(["bash", str(path)], env={"SLURM_ARRAY_TASK_ID": "99"}, capture_output=True, text=True,
                             check=False)  # fmt: skip
    assert missing.returncode == 2
    assert "array task 99 has no row in the --each file" in missing.stderr
