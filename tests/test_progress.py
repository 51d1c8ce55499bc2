"""A build you can watch (issue 12): the status line under a real pseudo-terminal, the plain lines
without one, silence with -q, and source builds named before they start or refused (--no-build).

The source-only package is a tiny sdist built here (tests/sdist.py) whose build sleeps, so a
build lasts long enough to see the line move; pip and uv both build it offline.
"""

from __future__ import annotations

import io
import itertools
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

from reprorun.envs.installers.uv import find_uv
from reprorun.progress import Progress
from sdist import build_sdist

INSTALLERS = ["pip", pytest.param("uv", marks=pytest.mark.skipif(find_uv() is None, reason="uv is not installed"))]
CLEAR = "\r\x1b[2K"

# What pip 26 and uv 0.13 print for a source-only package (captured from real runs).
PIP_OUTPUT = """\
Looking in links: /wh
Processing /wh/slowpkg-1.0.tar.gz
  Getting requirements to build wheel: started
  Preparing metadata (pyproject.toml): started
Collecting alpha
  Downloading alpha-2.0-py3-none-any.whl (1.2 kB)
Building wheels for collected packages: slowpkg
  Building wheel for slowpkg (pyproject.toml): started
  Building wheel for slowpkg (pyproject.toml): finished with status 'done'
Successfully built slowpkg
Installing collected packages: slowpkg, alpha
Successfully installed alpha-2.0 slowpkg-1.0
"""
UV_OUTPUT = """\
Using Python 3.11.7 environment at: e1
Resolved 2 packages in 775ms
   Building slowpkg==1.0
      Built slowpkg==1.0
Prepared 2 packages in 1.76s
Installed 2 packages in 0.66ms
 + alpha==2.0
 + slowpkg==1.0
"""


def fed(output: str, stream: io.StringIO | None = None, verbosity: int = 0) -> Progress:
    progress = Progress("an environment for s.py", "Python 3.11 on manylinux_2_36_x86_64",
                        stream=stream or io.StringIO(), verbosity=verbosity)  # fmt: skip
    for line in output.splitlines():
        progress.feed(line)
    return progress


@pytest.mark.parametrize("output", [PIP_OUTPUT, UV_OUTPUT], ids=["pip", "uv"])
def test_the_output_of_each_installer_is_understood(output):
    stream = io.StringIO()
    progress = fed(output, stream)
    assert (progress.done, progress.total) == (2, 2)
    assert progress.built_from_source == ["slowpkg"]
    assert stream.getvalue() == (
        "reprorun: building slowpkg 1.0 from source: no wheel of it for Python 3.11 on manylinux_2_36_x86_64 "
        "(this can take minutes; --no-build refuses source builds)\n"
    )


def test_phases_follow_the_output():
    progress = Progress("x", "y", stream=io.StringIO(), clock=iter([0.0, 7.4]).__next__)
    assert progress.status() == "reprorun: creating x 7s"
    steps = [
        ("Collecting alpha", "resolving alpha"),
        ("  Downloading numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl (18.2 MB)", "downloading numpy"),
        ("  Building wheel for slowpkg (pyproject.toml): started", "compiling slowpkg"),
        ("Installing collected packages: a, b, c", "installing slowpkg"),
    ]
    for line, shown in steps:
        progress.feed(line)
        assert f"{progress.phase} {progress.package}" == shown
    assert progress.total == 3


def test_quiet_says_nothing_and_verbose_passes_the_output_on():
    quiet = io.StringIO()
    fed(PIP_OUTPUT, quiet, verbosity=-1).finish("installed 2 packages in 1.0s")
    assert quiet.getvalue() == ""
    loud = io.StringIO()
    fed(UV_OUTPUT, loud, verbosity=1)
    assert loud.getvalue().startswith(UV_OUTPUT.splitlines()[0] + "\n")


def test_live_line_on_a_pseudo_terminal_in_process():
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "w", closefd=False) as terminal:
            progress = Progress("an environment", "Python 3.11 on linux", stream=terminal)
            assert progress.live
            with progress:
                progress.feed("Collecting alpha")
                time.sleep(0.6)
                progress.finish("installed 1 package in 0.6s")
        output = ""
        while select.select([master], [], [], 0.2)[0]:
            output += os.read(master, 65536).decode()
    finally:
        os.close(master)
        os.close(slave)
    assert output.count(CLEAR + "reprorun: resolving alpha (0/1) 0s") >= 2, output  # redrawn
    assert output.endswith(CLEAR + "reprorun: installed 1 package in 0.6s\r\n")  # the tty turns \n into \r\n


# --- through the command line ----------------------------------------------------------------

SCRIPT = '# /// script\n# dependencies = ["slowpkg", "beta"]\n# ///\nimport slowpkg, beta\nprint("ok")\n'


@pytest.fixture
def source_only(tmp_path, wheelhouse, monkeypatch):
    """The test wheelhouse plus a folder holding only slowpkg's sdist (a 2.5 s build)."""
    sdists = tmp_path / "sdists"
    build_sdist(sdists, delay=2.5)
    monkeypatch.setenv("PIP_FIND_LINKS", f"{wheelhouse} {sdists}")
    path = tmp_path / "s.py"
    path.write_text(SCRIPT)
    return path


def _under_pty(exe: Path, *args: str) -> tuple[int, str, list[tuple[float, str]]]:
    """Run reprorun with stderr on a pseudo-terminal: exit status, stdout, and stderr's chunks as they came."""
    master, slave = pty.openpty()
    started = time.monotonic()
    process = subprocess.Popen([str(exe), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks: list[tuple[float, str]] = []
    with process:
        while True:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer of the terminal is gone
                    break
                if not data:
                    break
                chunks.append((time.monotonic() - started, data.decode(errors="replace")))
            elif process.poll() is not None:
                break
        stdout = process.stdout.read().decode() if process.stdout else ""
        process.wait(timeout=60)
    os.close(master)
    return process.returncode, stdout, chunks


@pytest.mark.slow
@pytest.mark.parametrize("installer", INSTALLERS)
def test_status_line_under_a_pseudo_terminal(reprorun_exe, source_only, installer, monkeypatch):
    monkeypatch.setenv("REPRORUN_INSTALLER", installer)
    status, stdout, chunks = _under_pty(reprorun_exe, str(source_only))
    text = "".join(chunk for _, chunk in chunks)
    assert (status, stdout) == (0, "ok\n"), text
    frames = [(at, frame) for at, chunk in chunks for frame in chunk.split(CLEAR)[1:] if frame]
    during = [at for at, frame in frames if "compiling slowpkg" in frame]
    assert len(during) >= 3, text  # the 2.5 s build is redrawn, not one frozen line
    assert max(b - a for a, b in itertools.pairwise(during)) < 1.0, during  # at least once a second
    elapsed = [int(m) for m in re.findall(r"compiling slowpkg(?: \(\d+/\d+\))? (\d+)s", text)]
    assert elapsed == sorted(elapsed) and elapsed[-1] >= 2, elapsed  # the time moves
    assert "reprorun: building slowpkg 1.0 from source: no wheel of it for Python 3." in text
    final = text.rsplit(CLEAR, 1)[-1]
    assert re.fullmatch(r"reprorun: installed \d+ packages in \d+\.\ds\r\n", final), repr(final)
    assert "creating an environment" not in text.replace(CLEAR, "\n").splitlines()[-1]


@pytest.mark.slow
@pytest.mark.parametrize("installer", INSTALLERS)
def test_without_a_terminal_only_the_first_and_last_lines(run_reprorun, source_only, installer):
    result = run_reprorun(source_only, env={"REPRORUN_INSTALLER": installer})
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"reprorun: creating an environment for {source_only}: Python ")
    assert lines[0].endswith(f"2 requirements ({installer})")
    assert lines[1].startswith("reprorun: building slowpkg 1.0 from source: no wheel of it for Python ")
    assert re.fullmatch(r"reprorun: installed \d packages in \d+\.\ds", lines[2])
    assert len(lines) == 3
    assert "\r" not in result.stderr


@pytest.mark.slow
def test_quiet_build_says_nothing(run_reprorun, source_only):
    result = run_reprorun("-q", source_only, env={"REPRORUN_INSTALLER": "pip"})
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")


@pytest.mark.slow
@pytest.mark.parametrize("installer", INSTALLERS)
def test_no_build_refuses_the_source_build_naming_the_package(run_reprorun, source_only, installer, cache_dir):
    result = run_reprorun("--no-build", source_only, env={"REPRORUN_INSTALLER": installer})
    assert result.returncode == 1
    assert "reprorun: error: --no-build: no wheel of slowpkg to install, and building from source is refused" in (
        result.stderr
    ), result.stderr
    assert "building slowpkg" not in result.stderr  # refused before any build started
    assert not list(cache_dir.glob("envs/*/reprorun-complete"))


@pytest.mark.slow
def test_no_build_in_the_config_file(run_reprorun, source_only, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("no-build = true\n")
    result = run_reprorun(source_only, env={"REPRORUN_CONFIG": str(config), "REPRORUN_INSTALLER": "pip"})
    assert result.returncode == 1
    assert "--no-build: no wheel of slowpkg" in result.stderr


@pytest.mark.slow
def test_no_build_with_wheels_for_everything_builds(run_reprorun, tmp_path):
    path = tmp_path / "w.py"
    path.write_text('# /// script\n# dependencies = ["beta"]\n# ///\nimport beta\nprint("ok")\n')
    result = run_reprorun("--no-build", path)
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr


def test_no_build_is_part_of_the_key():
    from reprorun.envs import keys
    from reprorun.envs.installers.sources import Sources
    from reprorun.envs.interpreters import Interpreter

    python = Interpreter("/usr/bin/python3", "cpython", "3.11.7", "cp311", "linux-x86_64", "manylinux_2_36_x86_64")
    plain, strict = (keys.document(["a"], python, Sources(no_build=flag)) for flag in (False, True))
    assert "no-build" not in plain["sources"]
    assert strict["sources"]["no-build"] is True
    assert Sources(no_build=True).pip_args() == ["--only-binary", ":all:"]
    assert Sources(no_build=True).uv_args() == ["--no-build"]
