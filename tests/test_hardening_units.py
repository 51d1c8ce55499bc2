"""The pure and small pieces of issue 19: nesting limits, calendar edges, JSON for TOML's nan, capped
warnings, linear block edits, owner-preserving rewrites, temporary folders and cache failures."""

from __future__ import annotations

import errno
import json
import logging
import os
import time
from pathlib import Path

import pytest

from multiuser import reader_ids
from reprorun import notices
from reprorun.envs import failures, layout, scratch
from reprorun.errors import CacheError, MetadataError, UsageError
from reprorun.script import blockedit, loading, metadata, rewrite, timestamps, tomltext
from reprorun.script.source import read_regular


@pytest.mark.parametrize(("text", "depth"), [
    ("a = 1", 0), ("a = [1, [2]]", 2), ("a = {b = {c = 1}}", 2), ("[a.b.c]\nx = 1", 3),
    ('a = "[[[[[["', 0), ("a = 1 # [[[[[[[[", 0), ("a = '{{{{'", 0), ('a = "\\"[["', 0),
])  # fmt: skip
def test_nesting_skips_strings_and_comments(text: str, depth: int) -> None:
    assert tomltext.nesting(text)[0] == depth


def test_deep_blocks_are_errors_naming_the_line() -> None:
    text = "# /// script\n# dependencies = []\n# x = " + "[" * 65 + "]" * 65 + "\n# ///\n"
    with pytest.raises(MetadataError) as caught:
        metadata.parse(text, "deep.py")
    assert caught.value.line == 3 and "65 levels" in caught.value.message
    ok = "# /// script\n# x = " + "[" * 64 + "]" * 64 + "\n# ///\n"
    assert metadata.parse(ok, "ok.py").block is not None


def test_a_deep_dotted_header_is_an_error_at_once() -> None:
    text = "# /// script\n# [" + ".".join(["a"] * 50000) + "]\n# ///\n"
    start = time.monotonic()
    with pytest.raises(MetadataError):
        metadata.parse(text, "keys.py")
    assert time.monotonic() - start < 5


@pytest.mark.parametrize(("value", "expected"), [
    ("0001-01-01", "0001-01-01T00:00:00Z"), ("0001-01-01T00:30:00+00:30", "0001-01-01T00:00:00Z"),
    ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"), ("2024-02-29T01:00:00+01:00", "2024-02-29T00:00:00Z"),
    ("0999-05-06", "0999-05-06T00:00:00Z"),
])  # fmt: skip
def test_utc_text_keeps_four_digit_years(value: str, expected: str) -> None:
    assert timestamps.utc_text(value) == expected


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2023-02-29", "x"])
def test_utc_text_refuses_what_leaves_the_calendar(value: str) -> None:
    with pytest.raises(ValueError):
        timestamps.utc_text(value)


def test_block_exclude_newer_outside_the_calendar_is_a_metadata_error() -> None:
    text = '# /// script\n# [tool.reprorun]\n# exclude-newer = "0001-01-01T00:00:00+01:00"\n# ///\n'
    with pytest.raises(MetadataError):
        metadata.parse(text, "edge.py")


def test_nan_and_inf_become_json_strings() -> None:
    meta = metadata.parse("# /// script\n# [tool.x]\n# a = nan\n# b = [-inf, 1.5]\n# ///\n", "n.py")
    text = json.dumps(meta.to_json(), allow_nan=False)
    assert json.loads(text)["tool"]["x"] == {"a": "nan", "b": ["-inf", 1.5]}


def test_warnings_are_capped(caplog: pytest.LogCaptureFixture) -> None:
    meta = metadata.parse("# /// script\n" * 5000, "many.py")
    with caplog.at_level(logging.WARNING, logger="reprorun"):
        loading.tell(meta, "many.py")
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == notices.SHOWN + 2  # ten warnings, their hint once, the count of the rest
    assert messages[-1] == f"many.py: {5000 - notices.SHOWN} more warnings like these not shown"


def test_editing_a_large_block_is_linear() -> None:
    def timed(lines: int) -> float:
        text = "# /// script\n# dependencies = [\n" + '#   "alpha",\n' * lines + "# ]\n# ///\n"
        block = metadata.parse(text, "big.py").block
        assert block is not None
        content = block.content.replace('"alpha",\n]', '"alpha",\n  "beta",\n]')
        start = time.monotonic()
        new = blockedit.replace_block(text, block, content)
        assert new.count('"alpha"') == lines and '"beta"' in new
        return time.monotonic() - start

    small, large = timed(2000), timed(20000)
    assert large < 2.0, large
    assert large < 20 * max(small, 0.02), (small, large)  # ten times the lines: not a hundred times the time


def test_replace_block_keeps_unchanged_lines_byte_for_byte() -> None:
    text = "# /// script\r\n# dependencies = [\r\n#   'a',\r\n#   'b',\r\n# ]\r\n# ///\r\n"
    block = metadata.parse(text, "crlf.py").block
    assert block is not None
    new = blockedit.replace_block(text, block, block.content.replace("'b',", "'b',\n  'c',"))
    assert new.startswith("# /// script\r\n# dependencies = [\r\n#   'a',\r\n#   'b',\r\n")
    assert "'c'" in new


def test_special_files_are_refused_unread(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(UsageError, match="not a regular file"):
        read_regular(str(fifo))
    assert time.monotonic() - start < 2
    loop = tmp_path / "loop.py"
    os.symlink(loop, loop)
    with pytest.raises(UsageError, match="symbolic links"):
        read_regular(str(loop))
    with pytest.raises(UsageError, match="directory"):
        read_regular(str(tmp_path))


def test_a_rewrite_keeps_owner_and_group(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    uid, gid = reader_ids()
    script = tmp_path / "theirs.py"
    script.write_text("print(1)\n")
    os.chown(script, uid, gid)
    snapshot = rewrite.read(str(script))
    rewrite.write(snapshot, b"print(2)\n")
    info = script.stat()
    assert (info.st_uid, info.st_gid) == (uid, gid) and script.read_text() == "print(2)\n"
    other = tmp_path / "other-name.py"
    os.link(script, other)
    with caplog.at_level(logging.WARNING, logger="reprorun"):
        rewrite.write(rewrite.read(str(script)), b"print(3)\n")
    assert any("hard links" in record.getMessage() for record in caplog.records)
    assert other.read_text() == "print(2)\n"


def test_failures_name_the_cache_and_what_to_do(tmp_path: Path) -> None:
    full = failures.cache_error(tmp_path, OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x")), "x")
    assert isinstance(full, CacheError) and str(tmp_path) in full.message and "is full" in full.message
    assert full.hint and "prune" in full.hint
    denied = failures.cache_error(tmp_path, OSError(errno.EROFS, "Read-only file system"), "building")
    assert "cannot write the cache" in denied.message
    assert failures.from_output(tmp_path, "ERROR: ... [Errno 28] No space left on device", "b") is not None
    assert failures.from_output(tmp_path, "error: Failed to write (os error 30)", "b") is not None
    assert failures.from_output(tmp_path, "ERROR: No matching distribution", "b") is None
    with pytest.raises(CacheError), failures.writing(tmp_path, "testing"):
        raise OSError(errno.EDQUOT, "Disk quota exceeded")
    with pytest.raises(FileNotFoundError), failures.writing(tmp_path, "testing"):
        raise FileNotFoundError(errno.ENOENT, "gone")


def test_scratch_lives_in_the_cache_and_sweeps_dead_owners(tmp_path: Path) -> None:
    import tempfile

    base = tmp_path / layout.TMP
    base.mkdir()
    dead = base / f"{os.uname().nodename}.999999999.0.abcdef"
    dead.mkdir()
    other_host = base / "elsewhere.1.0.abcdef"
    other_host.mkdir()
    with scratch.scratch(tmp_path) as folder:
        assert folder is not None and folder.parent == base
        assert tempfile.gettempdir() == str(folder)
        assert os.environ.get("TMPDIR") != str(folder)  # only for the installers reprorun starts
        from reprorun import processes

        assert processes.environ()["TMPDIR"] == str(folder)
        assert not dead.exists() and other_host.exists()
    assert not folder.exists() and tempfile.gettempdir() != str(folder)
    assert scratch.sweep(base, ttl=0.0) == 1 and not other_host.exists()
