"""`reprorun init | add | remove`, and the file-safety promises every write keeps."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reprorun.errors import ReprorunError
from reprorun.script import metadata
from reprorun.script import rewrite as files


def test_init_creates_a_new_script(run_reprorun, tmp_path: Path) -> None:
    path = tmp_path / "new.py"
    result = run_reprorun("init", path, "beta>=1", "--requires-python", ">=3.10")
    assert result.returncode == 0, result.stderr
    assert path.read_text() == (
        '# /// script\n# requires-python = ">=3.10"\n# dependencies = [\n#     "beta>=1",\n# ]\n# ///\n'
    )


def test_init_after_shebang_and_refuses_a_second_block(run_reprorun, tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_bytes(b"#!/usr/bin/env python3\r\nprint('hi')\r\n")
    assert run_reprorun("init", path, "alpha").returncode == 0
    assert path.read_bytes() == (
        b'#!/usr/bin/env python3\r\n# /// script\r\n# dependencies = [\r\n#     "alpha",\r\n# ]\r\n# ///\r\n'
        b"\r\nprint('hi')\r\n"
    )
    again = run_reprorun("init", path)
    assert again.returncode == 2
    assert "already has a script block" in again.stderr


def test_init_adopts_a_pep722_comment(run_reprorun, tmp_path: Path) -> None:
    path = tmp_path / "old.py"
    path.write_text("# Script Dependencies:\n#    beta\n\nimport beta\n")
    assert run_reprorun("init", path).returncode == 0
    assert metadata.parse(path.read_text()).dependencies == ("beta",)


def test_add_and_remove_keep_comments(run_reprorun, tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text('# /// script\n# dependencies = [\n#   "alpha",  # mine\n# ]\n# ///\nx = 1\n')
    assert run_reprorun("add", path, "beta", "Alpha>=1").returncode == 0
    assert path.read_text() == (
        '# /// script\n# dependencies = [\n#   "Alpha>=1",  # mine\n#   "beta",\n# ]\n# ///\nx = 1\n'
    )
    assert run_reprorun("remove", path, "alpha").returncode == 0
    assert path.read_text() == '# /// script\n# dependencies = [\n#   "beta",\n# ]\n# ///\nx = 1\n'
    missing = run_reprorun("remove", path, "gamma")
    assert missing.returncode == 2
    assert path.read_text().endswith('"beta",\n# ]\n# ///\nx = 1\n')


def test_add_to_a_script_without_block(run_reprorun, tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text("import beta\n")
    assert run_reprorun("add", path, "beta").returncode == 0
    assert metadata.parse(path.read_text()).dependencies == ("beta",)
    assert path.read_text().endswith("# ///\n\nimport beta\n")


def test_add_and_remove_on_a_frozen_block_refreeze(run_reprorun, tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text('# /// script\n# dependencies = ["beta"]\n# ///\n')
    assert run_reprorun("--freeze", path).returncode == 0
    result = run_reprorun("add", path, "gamma")
    assert result.returncode == 0, result.stderr
    meta = metadata.parse(path.read_text())
    assert meta.settings.requested == ("beta", "gamma")
    assert meta.dependencies == ("alpha==2.0", "beta==1.0", "epsilon==1.0", "gamma==1.0")
    assert run_reprorun("remove", path, "gamma").returncode == 0
    meta = metadata.parse(path.read_text())
    assert meta.settings.requested == ("beta",)
    assert meta.dependencies == ("alpha==2.0", "beta==1.0")
    only_pinned = run_reprorun("remove", path, "alpha")
    assert only_pinned.returncode == 2
    assert "pinned only because another package needs it" in only_pinned.stderr


# --- never lose the user's work ------------------------------------------------------------------------

SCRIPT = '# /// script\n# dependencies = ["gamma"]\n# ///\nprint("mine")\n'


def test_read_only_file_is_refused(run_reprorun, tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text(SCRIPT)
    path.chmod(0o444)
    result = run_reprorun("--freeze", path)
    assert result.returncode == 1
    assert "read-only" in result.stderr and "nothing was written" in result.stderr
    assert path.read_text() == SCRIPT


def test_read_only_folder_is_refused(run_reprorun, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "s.py"
    path.write_text(SCRIPT)
    folder.chmod(0o555)
    try:
        result = run_reprorun("add", path, "beta")
    finally:
        folder.chmod(0o755)
    assert result.returncode == 1
    assert "read-only" in result.stderr
    assert path.read_text() == SCRIPT
    assert os.listdir(folder) == ["s.py"]


def test_write_refuses_a_file_changed_since_it_was_read(tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text(SCRIPT)
    snapshot = files.read(str(path))
    path.write_text(SCRIPT + "# edited in the editor meanwhile\n")
    with pytest.raises(ReprorunError, match="changed on disk"):
        files.write(snapshot, b"new")
    assert path.read_text().endswith("meanwhile\n")
    assert os.listdir(tmp_path) == ["s.py"]


def test_write_replaces_atomically_and_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text(SCRIPT)
    path.chmod(0o700)
    inode = path.stat().st_ino
    files.write(files.read(str(path)), b"new\n")
    assert path.read_bytes() == b"new\n"
    assert path.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_ino != inode  # a new file took the name: readers never see half of one
    assert os.listdir(tmp_path) == ["s.py"]


@pytest.fixture
def editing_index(wheelhouse: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A find-links page on localhost that edits the script the first time pip asks for it."""
    script = tmp_path / "s.py"

    class Handler(http.server.SimpleHTTPRequestHandler):
        edited = False

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(wheelhouse), **kwargs)  # type: ignore[arg-type]

        def do_GET(self) -> None:
            if not Handler.edited:
                Handler.edited = True
                with script.open("a") as handle:  # the user saves in the editor mid-resolution
                    handle.write("# a line the user typed meanwhile\n")
            super().do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", script
    finally:
        server.shutdown()
        server.server_close()


def test_file_changed_during_resolution_is_not_overwritten(run_reprorun, editing_index) -> None:
    url, script = editing_index
    script.write_text(SCRIPT)
    result = run_reprorun("--freeze", "--find-links", url, script, env={"PIP_FIND_LINKS": url})
    assert result.returncode == 1, result.stderr
    assert "changed on disk" in result.stderr and "nothing was written" in result.stderr
    assert script.read_text() == SCRIPT + "# a line the user typed meanwhile\n"
