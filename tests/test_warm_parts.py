"""reprorun/warm.py's pure parts: which command lines it takes, the block text it fingerprints, and a
cache root read from the configuration exactly as config.py reads it (or not at all)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reprorun import config, warm
from reprorun.launch import remember

# --- which command lines the warm path takes ---------------------------------------------------------


def test_parse_plain_script(tmp_path: Path) -> None:
    assert warm._parse(["s.py", "-v", "x"]) == (None, None, "s.py", ["-v", "x"])


def test_parse_takes_offline_quiet_python_and_cache_dir() -> None:
    argv = ["--offline", "-q", "--python", "3.12", "--cache-dir", "~/c", "--quiet", "dir/s", "a"]
    assert warm._parse(argv) == ("3.12", os.path.abspath(os.path.expanduser("~/c")), "dir/s", ["a"])


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--offline"],
        ["-v", "s.py"],
        ["--freeze", "s.py"],
        ["--index-url", "https://i/simple", "s.py"],
        ["--python"],
        ["-", "a"],
        ["nb.ipynb"],
        ["meta", "s.py"],
        ["--record", "s.py"],
    ],
)
def test_parse_gives_up(argv: list[str]) -> None:
    assert warm._parse(argv) is None


def test_parse_an_existing_file_without_suffix_is_a_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tool").write_text("print(1)\n", encoding="utf-8")
    assert warm._parse(["tool", "x"]) == (None, None, "tool", ["x"])


# --- the block text ----------------------------------------------------------------------------------


def test_block_text_is_the_raw_block() -> None:
    text = '#!/usr/bin/env python\n# /// script\n# dependencies = ["a"]\n# ///\nprint(1)\n'
    assert warm.block_text(text) == '# /// script\n# dependencies = ["a"]\n# ///'


def test_block_text_of_a_script_without_a_block_is_empty() -> None:
    assert warm.block_text("print(1)\n") == ""


@pytest.mark.parametrize(
    "text",
    [
        "# /// script\n# dependencies = []\n",  # unclosed
        "# /// script\n# ///\nx = 1\n# /// script\n# ///\n",  # two blocks
        "# Script Dependencies:\n#   requests\n",  # PEP 722: only the full path reads it
    ],
)
def test_block_text_gives_up(text: str) -> None:
    assert warm.block_text(text) is None


def test_fingerprint_depends_on_what_decides_the_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = "# /// script\n# ///\n"
    base = warm.fingerprint(block, str(tmp_path / "s.py"), None, "")
    assert len(base) == 32  # 128 bits of SipHash (warm.digest)
    assert warm.fingerprint(block.replace("\n", "\r\n"), str(tmp_path / "s.py"), None, "") == base
    others = {
        warm.fingerprint(block + "# x\n", str(tmp_path / "s.py"), None, ""),
        warm.fingerprint(block, str(tmp_path / "sub" / "s.py"), None, ""),
        warm.fingerprint(block, str(tmp_path / "s.py"), "3.12", ""),
        warm.fingerprint(block, str(tmp_path / "s.py"), None, "/c.toml\0installer = 'uv'\n"),
    }
    monkeypatch.setenv("PATH", "/elsewhere")
    others.add(warm.fingerprint(block, str(tmp_path / "s.py"), None, ""))
    assert base not in others
    assert len(others) == 5


def test_eligible_only_without_package_source_options() -> None:
    assert remember.eligible(argparse.Namespace(index_url=None, extra_index_url=[], find_links=[], no_index=False))
    assert not remember.eligible(argparse.Namespace(index_url="https://i", extra_index_url=[]))
    assert not remember.eligible(argparse.Namespace(find_links=["/w"]))
    assert not remember.eligible(argparse.Namespace(no_index=True))
    assert remember.eligible(object())


# --- the cache root from the configuration: the full path's, or give up -----------------------------

AGREE = [
    'cache-dir = "/abs/cache"\n',
    "cache-dir = '/abs/literal'\n",
    'cache-dir = "relative/cache"\n',
    'cache-dir = "~/home-cache"\n',
    'installer = "pip"\ncache-dir = "c"  # a comment\n',
    '"cache-dir" = "quoted-key"\n',
    'installer = "pip"\n',
]


@pytest.mark.parametrize("text", AGREE)
def test_configured_root_is_config_py_s(tmp_path: Path, text: str) -> None:
    path = str(tmp_path / "conf" / "config.toml")
    assert warm.configured_root(path + "\0" + text) == config.parse(text, path).cache_dir


@pytest.mark.parametrize(
    "text",
    [
        'cache-dir = "with\\\\backslash"\n',
        'cache-dir = """multi"""\n',
        '[other]\ncache-dir = "in-a-table"\n',
        'installer = "pip"\n[tool]\ncache-dir = "also-in-a-table"\n',
    ],
)
def test_configured_root_gives_up_or_agrees(tmp_path: Path, text: str) -> None:
    path = str(tmp_path / "config.toml")
    try:
        root = warm.configured_root(path + "\0" + text)
    except ValueError:
        return  # the warm path gives up: the full path reads the file
    assert root == config.parse(text, path).cache_dir


def test_configured_root_without_a_config() -> None:
    assert warm.configured_root("") is None


# --- the interpreter running reprorun, and the hash ----------------------------------------------------


def test_own_executable_is_the_real_path_of_this_interpreter() -> None:
    assert warm.own_executable() == os.path.realpath(sys.executable)


def test_runs_here_follows_links_and_tells_other_files(tmp_path: Path) -> None:
    link = tmp_path / "python"
    link.symlink_to(sys.executable)
    assert warm.runs_here(sys.executable) and warm.runs_here(str(link))
    copy = tmp_path / "copy"
    copy.write_bytes(Path(sys.executable).read_bytes())
    assert not warm.runs_here(str(copy))  # the same bytes are another file: its own prefix, its own start
    assert not warm.runs_here(str(tmp_path / "missing"))


def test_own_executable_without_proc_is_still_the_real_path(tmp_path: Path) -> None:
    # where /proc/self/exe cannot be read or names another file (valgrind names a `#!` script)
    code = ("import os, sys\nos.readlink = lambda path: sys.argv[1]\nfrom reprorun import warm\n"
            "print(warm.own_executable() == os.path.realpath(sys.executable))")  # fmt: skip
    for named in (str(tmp_path), "relative", "/nonexistent/python"):
        found = subprocess.run([sys.executable, "-c", code, named], capture_output=True, text=True, check=True)
        assert found.stdout == "True\n", named


def test_digest_is_128_bits_of_the_builtin_keyed_hash() -> None:
    import _imp

    assert len(warm.digest(b"")) == 16
    keys = (0x7265_7072_6F72_756E, 0x7761_726D_2D73_7461)
    assert warm.digest(b"a") == _imp.source_hash(keys[0], b"a") + _imp.source_hash(keys[1], b"a")
    assert len({warm.digest(bytes([n])) for n in range(256)}) == 256


def test_options_reads_the_plain_runs_options_for_the_warm_start_and_the_first_run() -> None:
    """One option loop for both (warm._parse, launch/firstrun._parse): flags, -q counts, values."""
    assert warm.options(["-qq", "--offline", "--python=/x/python", "s.py", "-q"], {"--offline"}) == (
        3, {"--python": "/x/python"}, {"--offline"}, 2)  # fmt: skip
    assert warm.options(["--quiet", "--cache-dir", "c", "--python", "3.11", "--python", "3.12", "s.py"],
                        {"--quiet"}) == (7, {"--cache-dir": "c", "--python": "3.12"}, {"--quiet"}, 1)  # fmt: skip
    assert warm.options(["--refresh", "s.py"], {"--offline"}) is None  # a flag the caller does not take
    assert warm.options(["--refresh", "s.py"], {"--refresh"}) == (1, {}, {"--refresh"}, 0)
    assert warm.options(["--python"], set()) is None  # no value
    assert warm.options(["-q"], set()) is None  # no script
    # A value the command line refuses, even one a later option overrides: the full path reports it.
    assert warm.options(["--installer", "bad", "--installer", "uv", "s.py"], set()) is None
    assert warm.options(["--installer=uv", "s.py"], set()) == (1, {"--installer": "uv"}, set(), 0)
