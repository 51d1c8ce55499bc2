"""The documentation runs: every `console` block of the tutorial and the how-to guides, and the site builds.

The convention, visible on every page: a `console` block is a terminal session (`$ ` before each
command, the output the page shows after it) and the tests run it; a block of commands without
prompts (`sh`) or of output alone (`text`) is an illustration (a real cluster's paths, the network)
and is not run. The test runs a page's commands in order, in one folder per page (so a page's
state carries from block to block; the page's example files from `scripts-examples/` are copied
there first), offline against a local wheelhouse, with one reprorun cache per page (a page's later
blocks reuse the environments its earlier ones built). It fails when a command fails, unless the
output the page shows for it is a failure (a traceback, `reprorun: error`, `FAIL`), when a command
the page shows with `reprorun: error` succeeds, or when its output no longer matches the page in
substance: every non-blank line the page shows must appear in the real output, in order, where
`...` stands for anything (a whole line: any number of lines). What changes from run to run
(times, Python versions, platform tags, hashes, timestamps, job ids, the test's paths) is
normalized on both sides.

A page with `console` blocks that no test runs fails `test_every_console_block_is_run`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "scripts-examples"


@dataclass(frozen=True)
class Page:
    """How a page's commands run: its example files, its folder's name, what it needs."""

    examples: str  # a folder of scripts-examples/, copied into the page's folder
    folder: str  # the folder the page's commands run in, as the page names it (~/NAME)
    find_links: bool = True  # PIP_FIND_LINKS names the wheels; else the page's own pip.conf must
    slurm: bool = False  # the session's real Slurm cluster (tests/slurm.py)


# Pages whose `console` blocks this test runs.
PAGES = {
    "tutorial.md": Page("tutorial", "tutorial", slurm=True),
    "freeze.md": Page("freeze", "freeze"),
    "records.md": Page("records", "records"),
    "cluster.md": Page("cluster", "cluster", slurm=True),
    "cells-and-notebooks.md": Page("notebooks", "notebooks", slurm=True),
    "sites.md": Page("sites", "sites", find_links=False),
    "metadata.md": Page("metadata", "metadata"),
    "interpreters.md": Page("interpreters", "interpreters"),
}
# Pages whose `console` blocks another test runs (with wheels made for the page).
ELSEWHERE = {"portability.md": "tests/test_portability_docs.py"}
# Pages whose `console` sessions are not run (none today): named here, so that a gap stays visible.
NOT_RUN: set[str] = set()
# The real wheels the pages' examples install (tests/fetch_wheels.py downloads them, pinned).
WHEELS = ("tabulate-0.10.0", "tabulate-0.9.0", "python_dateutil", "tzdata", "ipykernel")
NORMALIZE = [
    (re.compile(r"\d{8}T\d{6}Z-([\w.-]+?)-\w+"), r"<stamp>-\1-<id>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?Z?"), "<time>"),
    (re.compile(r"cpython-3\.\d+\.\d+-[\w]+"), "<tag>"),
    (re.compile(r"\b3\.\d+\.\d+\b"), "<py>"),
    (re.compile(r"\b\d+(\.\d+)?m?s\b"), "<t>"),
    (re.compile(r"\b[0-9a-f]{12,64}\b"), "<hex>"),
    (re.compile(r"\bjob \d+"), "job <n>"),
    (re.compile(r"\b\d+_(\d+)\.(err|out)\b"), r"<n>_\1.\2"),  # a task's log file: JOB_TASK.err
    (re.compile(r"^\d+$"), "<n>"),  # a job id alone on its line (what `submit` prints)
]
FAILURE = re.compile(r"Traceback|^reprorun: error|^FAIL|Error: ")


@dataclass(frozen=True)
class Step:
    """One command of a page and the output the page shows for it."""

    page: str
    line: int
    command: str
    expected: tuple[str, ...]


def blocks(page: str) -> list[tuple[int, str]]:
    """The first line number and the text of each `console` block of a page."""
    text = (DOCS / page).read_text(encoding="utf-8")
    found = re.finditer(r"^```console\n(.*?)^```", text, flags=re.S | re.M)
    return [(text.count("\n", 0, block.start()) + 2, block.group(1)) for block in found]


def steps(page: str) -> list[Step]:
    """The commands of a page's `console` blocks, in order."""
    found: list[Step] = []
    for first, body in blocks(page):
        command: str | None = None
        start = 0
        expected: list[str] = []
        for offset, line in enumerate(body.splitlines()):
            if line.startswith("$ "):
                if command is not None:
                    found.append(Step(page, start, command, tuple(expected)))
                command, start, expected = line[2:], first + offset, []
            elif command is not None:
                expected.append(line)
        if command is not None:
            found.append(Step(page, start, command, tuple(expected)))
    return found


def normalize(line: str, work: Path, folder: str = "tutorial") -> str:
    """A line with what varies between runs replaced by placeholders, and spaces collapsed."""
    line = line.replace(str(work), f"~/{folder}").replace(str(work.parent), "~")
    for pattern, replacement in NORMALIZE:
        line = pattern.sub(replacement, line)
    return " ".join(line.split())


def matches(expected: tuple[str, ...], output: str, work: Path, folder: str = "tutorial") -> str | None:
    """None if the output shows every expected line in order; else the first line not found."""
    actual = [normalize(line, work, folder) for line in output.splitlines() if line.strip()]
    position = 0
    for raw in expected:
        want = normalize(raw, work, folder)
        if not want or want == "...":
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in want.split("...")) + "$")
        while position < len(actual) and not pattern.match(actual[position]):
            position += 1
        if position == len(actual):
            return raw
        position += 1
    return None


def shows_failure(expected: tuple[str, ...]) -> bool:
    """Whether the output a page shows for a command is that of a failure."""
    return any(FAILURE.search(line) for line in expected)


# Read at import: the autouse fixture clears REPRORUN_* variables before each test.
WHEEL_FOLDER = Path(os.environ.get("REPRORUN_TEST_WHEELS") or ROOT / ".test-wheels")


def _wheels() -> Path:
    folder = WHEEL_FOLDER
    missing = [name for name in WHEELS if not list(folder.glob(f"{name}-*.whl"))]
    if missing:
        reason = f"the documentation's wheels are not in {folder} ({', '.join(missing)}): run tests/fetch_wheels.py"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_command_of_the_page_runs_as_shown(page, tmp_path, reprorun_exe, monkeypatch, request):
    wheels = _wheels()
    spec = PAGES[page]
    if spec.slurm:
        request.getfixturevalue("slurm")  # sets SLURM_CONF for the page's commands
    home = tmp_path / "home"
    work = home / spec.folder
    shutil.copytree(EXAMPLES / spec.examples, work)
    if spec.find_links:
        monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    else:  # the page's pip.conf names ./wheelhouse (a site's wheelhouse: here the real wheels), no index
        monkeypatch.delenv("PIP_FIND_LINKS")
        monkeypatch.delenv("PIP_NO_INDEX")
        (work / "wheelhouse").mkdir()
        for wheel in wheels.glob("*.whl"):
            (work / "wheelhouse" / wheel.name).symlink_to(wheel)
    monkeypatch.setenv("PATH", f"{reprorun_exe.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME")  # records and kernels go where they go for a user: under ~
    for step in steps(page):
        result = subprocess.run(["bash", "-c", step.command], cwd=work, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, timeout=600, check=False)  # fmt: skip
        output = result.stdout
        where = f"{page}:{step.line}: $ {step.command}"
        failed = result.returncode != 0
        # A failure must be shown as one; reprorun's own error line means the command fails.
        assert not failed or shows_failure(step.expected), f"{where}\nexit {result.returncode}\n{output}"
        says_error = any(line.startswith("reprorun: error") for line in step.expected)
        assert failed or not says_error, f"{where}\nthe page shows an error, the command exits 0:\n{output}"
        missing = matches(step.expected, output, work, spec.folder)
        assert missing is None, f"{where}\nthe page shows {missing!r}, the command printed:\n{output}"


def _console_pages() -> set[str]:
    return {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md") if "```console" in p.read_text(encoding="utf-8")}


def test_every_console_block_is_run():
    """A page's `console` blocks are run by this test or another; a block of output alone is `text`."""
    unrun = _console_pages() - set(PAGES) - set(ELSEWHERE) - NOT_RUN
    assert not unrun, f"console blocks no test runs (run them, or mark them `sh`/`text`): {sorted(unrun)}"
    assert _console_pages() >= NOT_RUN, "a page of NOT_RUN has no console block left: drop it from NOT_RUN"
    for page in PAGES:
        for line, body in blocks(page):
            assert body.startswith("$ "), f"docs/{page}:{line}: a console block starts with a command"


def test_the_tutorial_and_every_how_to_guide_has_commands_that_run():
    import yaml

    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    guides = next(entry["How-to guides"] for entry in nav if "How-to guides" in entry)
    pages = ["tutorial.md", *(page for entry in guides for page in entry.values())]
    for page in pages:
        assert page in PAGES or page in ELSEWHERE, f"{page}: its commands are run by no test"
        assert page not in PAGES or len(steps(page)) >= 3, f"{page}: fewer than 3 commands that run"
    assert len(steps("tutorial.md")) >= 12


def test_matching_in_substance(tmp_path):
    output = "reprorun: installed 3 packages in 0.4s\nOslo: 12 days\nextra\n2024-01  4  -3.2\n"
    assert matches(("reprorun: installed 3 packages in 1.2s", "...", "2024-01 4 -3.2"), output, tmp_path) is None
    assert matches(("Oslo: ... days",), output, tmp_path) is None
    assert matches(("2024-01  4  -3.2", "Oslo: 12 days"), output, tmp_path) == "Oslo: 12 days"  # order counts
    assert matches(("Lisbon: 12 days",), output, tmp_path) == "Lisbon: 12 days"
    assert matches(("4242",), "17\n", tmp_path) is None  # job ids
    assert matches(("log: .../logs/19_1.err",), "log: /x/logs/5_1.err\n", tmp_path) is None
    assert matches(("log: .../logs/19_1.err",), "log: /x/logs/5_2.err\n", tmp_path) == "log: .../logs/19_1.err"
    assert matches((f"{tmp_path}/x",), "~/tutorial/x\n", tmp_path) is None


def test_failures_are_recognized():
    assert shows_failure(("...", "ModuleNotFoundError: No module named 'dateutil'"))
    assert shows_failure(("reprorun: error: no such file",))
    assert shows_failure(("FAIL  wheels cp311-linux-aarch64: ...",))
    assert not shows_failure(("ok    block: valid (3 dependencies)", "reprorun: row 1 of 2 ok: out/Oslo.ipynb"))


def test_every_environment_variable_and_config_key_is_documented():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py"))
    documented = (DOCS / "reference" / "environment.md").read_text(encoding="utf-8")
    for name in sorted(set(re.findall(r"\bREPRORUN_[A-Z_]+\b", source))):
        assert f"`{name}`" in documented, f"{name} is read by reprorun but not in docs/reference/environment.md"
    from reprorun import config

    keys = (DOCS / "reference" / "config.md").read_text(encoding="utf-8")
    for key in (*config._STRINGS, *config._LISTS, *getattr(config, "_BOOLEANS", ())):
        assert f"`{key}`" in keys, f"config key {key} is not in docs/reference/config.md"


def test_the_site_builds_strictly(tmp_path):
    beside = Path(sys.executable).parent / "mkdocs"
    mkdocs = str(beside) if beside.exists() else shutil.which("mkdocs")
    if mkdocs is None:
        reason = "mkdocs is not installed (pip install -e '.[docs]')"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    quiet = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                            capture_output=True, text=True, check=False, env=quiet)  # fmt: skip
    assert result.returncode == 0, result.stderr
    reference = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for command in ("reprorun sync", "reprorun cache", "--installer", "reprorun completions"):
        assert command in reference, command
    # Output lines starting with '#' (#SBATCH, a block's '# /// script') are output, not root prompts
    # (docs/hooks/console.py): the only prompt the pages' sessions have is '$ '.
    site = tmp_path / "site"
    for page in PAGES:
        html = (site / page.removesuffix(".md") / "index.html").read_text(encoding="utf-8")
        prompts = set(re.findall(r'<span class="gp">([^<]*)</span>', html))
        assert prompts == {"$ "}, (page, prompts)
    assert (site / "img" / "laptop-to-cluster.svg").is_file()
