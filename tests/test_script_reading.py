"""Scripts as people write them (issue 12): the corpus cases in tests/corpus/, read and run.

A PEP 722 list followed by prose, near-miss openers and closers seen in public scripts, and a
`[tool.uv]` table that changes the install. Each is read as far as it can be, with one warning
that gives the line and the exact fix; none makes every command exit 2.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reprorun.script import metadata
from reprorun.script.blocks import scan
from reprorun.script.nearmiss import near_misses, uv_table

CORPUS = Path(__file__).parent / "corpus"
PIP = {"REPRORUN_INSTALLER": "pip"}


def corpus(name: str, tmp_path: Path) -> Path:
    """A copy of a corpus file (commands may rewrite it)."""
    return Path(shutil.copy(CORPUS / name, tmp_path / name))


# --- PEP 722 followed by prose ---------------------------------------------------------------


def test_pep722_list_is_read_up_to_the_prose():
    meta = metadata.parse((CORPUS / "pep722_then_usage.py").read_text(), "p.py")
    assert meta.source == "pep722"
    assert meta.dependencies == ("alpha>=1", "beta")
    assert meta.pep722_lines == (2, 4)
    ends = next(n for n in meta.notices if n.line == 5)
    assert ends.message == (
        "the 'Script Dependencies' list ends before this line: "
        "'# USAGE: python pep722_then_usage.py INPUT [--verbose]' is not a requirement"
    )


def test_pep722_stops_at_the_first_line_that_is_not_a_requirement():
    meta = metadata.parse("x = 1\n# Script Dependencies:\n#   ok\n#   bad!\n#   never\n", "s.py")
    assert meta.dependencies == ("ok",)
    assert [n.line for n in meta.notices] == [2, 4]


def test_run_reads_the_valid_lines_and_warns(run_reprorun, tmp_path):
    path = corpus("pep722_then_usage.py", tmp_path)
    result = run_reprorun(path, env=PIP)
    assert (result.returncode, result.stdout) == (0, "alpha 2.0\n"), result.stderr
    assert f"reprorun: warning: {path}:5: the 'Script Dependencies' list ends before this line" in result.stderr


def test_meta_reads_it_too(run_reprorun, tmp_path):
    result = run_reprorun("meta", corpus("pep722_then_usage.py", tmp_path))
    assert result.returncode == 0
    assert '"alpha>=1"' in result.stdout


def test_init_replaces_the_comment_with_a_block(run_reprorun, tmp_path):
    path = corpus("pep722_then_usage.py", tmp_path)
    result = run_reprorun("init", path, "delta")
    assert result.returncode == 0, result.stderr
    text = path.read_text()
    assert text.startswith(
        "#!/usr/bin/env python3\n# /// script\n# dependencies = [\n"
        '#     "alpha>=1",\n#     "beta",\n#     "delta",\n# ]\n# ///\n'
        "# USAGE: python pep722_then_usage.py INPUT [--verbose]\n"
    ), text
    assert "Script Dependencies" not in text
    assert metadata.parse(text).dependencies == ("alpha>=1", "beta", "delta")
    assert text.endswith((CORPUS / "pep722_then_usage.py").read_text().split("# USAGE", 1)[1])


def test_init_infer_replaces_the_comment_too(run_reprorun, tmp_path):
    path = corpus("pep722_then_usage.py", tmp_path)
    result = run_reprorun("init", "--infer", "--yes", path)
    assert result.returncode == 0, result.stderr
    text = path.read_text()
    assert "Script Dependencies" not in text
    assert metadata.parse(text).dependencies == ("alpha>=1", "beta")


def test_add_on_a_pep722_script_replaces_the_comment(run_reprorun, tmp_path):
    path = corpus("pep722_then_usage.py", tmp_path)
    assert run_reprorun("add", path, "gamma").returncode == 0
    assert metadata.parse(path.read_text()).dependencies == ("alpha>=1", "beta", "gamma")
    assert "Script Dependencies" not in path.read_text()


# --- near-miss openers and closers -----------------------------------------------------------

CLOSE_FIX = "write the line exactly as '# ///' (no other spaces)"
NEAR_MISSES = {
    "opener_no_space.py": (1, "'#/// script' is not a PEP 723 opener", "write the line exactly as '# /// script'"),
    "opener_glued.py": (2, "'# ///script' is not a PEP 723 opener", "write the line exactly as '# /// script'"),
    "opener_capital.py": (1, "'# /// Script' is not a PEP 723 opener", "write the line exactly as '# /// script'"),
    "opener_plural.py": (2, "'# /// scripts' is not a PEP 723 opener", "write the line exactly as '# /// script'"),
    "closer_glued.py": (3, "'#///' does not close a PEP 723 block", CLOSE_FIX),
}


@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
def test_near_misses_are_found_with_their_fix(name):
    line, message, hint = NEAR_MISSES[name]
    meta = metadata.parse((CORPUS / name).read_text(), name)
    assert meta.source == "none"
    (miss,) = meta.near_misses
    assert (miss.line, miss.hint) == (line, hint)
    assert miss.message.startswith(message)
    assert [n.line for n in meta.notices] == [line]  # one warning, not also "unclosed block"


@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
def test_meta_names_the_near_miss_instead_of_suggesting_init(run_reprorun, tmp_path, name):
    line, message, hint = NEAR_MISSES[name]
    path = corpus(name, tmp_path)
    result = run_reprorun("meta", path)
    assert result.returncode == 1
    assert f"reprorun: error: {path}:{line}: no '# /// script' block: {message}" in result.stderr
    assert f"hint: {hint}" in result.stderr
    assert "reprorun init" not in result.stderr


def test_running_a_near_miss_warns_every_time(run_reprorun, tmp_path):
    path = corpus("opener_no_space.py", tmp_path)
    for _ in range(2):  # the second run would be a warm one if the warm path did not step aside
        result = run_reprorun(path, env=PIP)
        assert f"reprorun: warning: {path}:1: '#/// script' is not a PEP 723 opener" in result.stderr
        assert "hint: write the line exactly as '# /// script'" in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "# /// script\n# dependencies = []\n# ///\n",  # exact
        "# /// pyproject\n# [project]\n# ///\n",  # another block type
        "x = '# /// script'\n",  # not a comment line
        "# ///\n",  # a closer with nothing opened
        "# comment /// script\n",
    ],
)
def test_exact_or_unrelated_lines_are_not_near_misses(text):
    assert near_misses(text, scan(text).blocks) == []
    assert metadata.parse(text).near_misses == ()


def test_a_near_miss_closer_after_a_closed_block_is_left_alone():
    meta = metadata.parse("# /// script\n# dependencies = []\n# ///\n#///\n")
    assert (meta.source, meta.near_misses) == ("pep723", ())


def test_indented_and_trailing_space_openers():
    for text, shown in (("  # /// script\n# ///\n", "# /// script"), ("# /// script \n# ///\n", "# /// script")):
        (miss,) = metadata.parse(text).near_misses
        assert f"'{shown}' is not a PEP 723 opener" in miss.message


# --- [tool.uv] -------------------------------------------------------------------------------


def test_tool_uv_with_indexes_and_sources_gets_one_warning():
    meta = metadata.parse((CORPUS / "tool_uv_sources.py").read_text(), "t.py")
    uv = [n for n in meta.notices if "[tool.uv]" in n.message]
    assert len(uv) == 1
    assert uv[0].line == 5
    assert uv[0].message == "[tool.uv] index, sources ignored: reprorun does not read uv's settings"
    assert uv[0].hint == ("use instead index: [tool.reprorun] index-url / extra-index-urls (or pip.conf); "
                          "sources: a direct reference in dependencies ('name @ URL')")  # fmt: skip


def test_tool_uv_without_install_keys_is_left_alone():
    assert uv_table({"uv": {"cache-keys": []}}) is None
    assert uv_table({"other": {"index": 1}}) is None
    meta = metadata.parse("# /// script\n# [tool.uv]\n# cache-keys = []\n# ///\n")
    assert meta.notices == ()


def test_run_with_tool_uv_warns_once_and_runs(run_reprorun, tmp_path):
    path = corpus("tool_uv_sources.py", tmp_path)
    result = run_reprorun(path, env=PIP)
    assert (result.returncode, result.stdout) == (0, "2.0\n"), result.stderr
    assert result.stderr.count("[tool.uv]") == 1
    assert f"reprorun: warning: {path}:5: [tool.uv] index, sources ignored" in result.stderr
