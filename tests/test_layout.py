"""envs/layout.py: every cache name and path, the pointer and marker checks, the one atomic write,
the configuration text read once, and a cache root equal to platformdirs' for the same settings."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from reprorun.envs import layout

KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
SHORT = KEY[:20]
BUILD = f"{SHORT}-20240601T000000-1234"


@pytest.fixture(autouse=True)
def _fresh_config() -> Iterator[None]:
    layout.forget_config()
    yield
    layout.forget_config()


# --- names ---------------------------------------------------------------------------------------


def test_short_is_twenty_hex_digits() -> None:
    assert layout.SHORT == 20


def test_env_dir_is_under_envs() -> None:
    assert layout.env_dir("/c", BUILD) == os.path.join("/c", "envs", BUILD)


def test_env_bin_and_env_python() -> None:
    assert layout.env_bin("/c/envs/b") == "/c/envs/b/bin"
    assert layout.env_python("/c/envs/b") == "/c/envs/b/bin/python"


def test_pointer_is_named_by_the_short_key() -> None:
    assert layout.pointer("/c", KEY) == f"/c/keys/{SHORT}"


def test_pointer_of_a_short_key_is_the_key_itself() -> None:
    assert layout.pointer("/c", "abc") == "/c/keys/abc"


def test_build_lock_is_one_per_key() -> None:
    assert layout.build_lock("/c", KEY) == f"/c/locks/{SHORT}.lock"
    assert layout.build_lock("/c", KEY) == layout.build_lock("/c", SHORT + "ffff")


def test_use_lock_and_prune_intent_are_per_build() -> None:
    assert layout.use_lock("/c", BUILD) == f"/c/locks/{BUILD}.use"
    assert layout.prune_intent("/c", BUILD) == f"/c/locks/{BUILD}.use.d"


def test_last_use_scripts_file_and_use_marker_are_under_used() -> None:
    assert layout.last_use("/c", BUILD) == f"/c/used/{BUILD}"
    assert layout.scripts_file("/c", BUILD) == f"/c/used/{BUILD}.scripts"
    assert layout.use_marker("/c", BUILD, "node1", 42) == f"/c/used/{BUILD}.node1.42"


def test_index_entry_is_under_index() -> None:
    assert layout.index_entry("/c", "f" * 64) == "/c/index/" + "f" * 64


def test_every_path_function_stays_inside_the_root() -> None:
    root = "/cache/root"
    paths = [
        layout.env_dir(root, BUILD),
        layout.pointer(root, KEY),
        layout.build_lock(root, KEY),
        layout.use_lock(root, BUILD),
        layout.prune_intent(root, BUILD),
        layout.last_use(root, BUILD),
        layout.scripts_file(root, BUILD),
        layout.use_marker(root, BUILD, "h", 1),
        layout.index_entry(root, "abc"),
    ]
    for path in paths:
        assert os.path.commonpath([root, path]) == root, path
    assert len(set(paths)) == len(paths)


def test_folders_created_with_the_root() -> None:
    assert layout.FOLDERS == ("envs", "keys", "locks", "index", "used")
    names = {layout.INTERPRETERS, layout.APP_DATA, layout.PIP, layout.STORE, layout.STDIN, layout.SNAPSHOTS,
             layout.TMP, layout.READERS}  # fmt: skip
    assert not names & set(layout.FOLDERS)
    assert len(names) == 8


def test_cachedir_tag_has_the_signature() -> None:
    assert layout.TAG_NAME == "CACHEDIR.TAG"
    assert layout.TAG.startswith("Signature: 8a477f597d28d172789f06886806bc55\n")


def test_the_docstring_names_every_folder() -> None:
    doc = layout.__doc__ or ""
    for name in (*layout.FOLDERS, layout.INTERPRETERS, layout.APP_DATA, layout.PIP, layout.STORE, layout.STDIN,
                 layout.SNAPSHOTS, layout.TMP, layout.READERS, layout.COMPLETE, layout.KEY_FILE, layout.TAG_NAME):
        assert name in doc, name


# --- published and looks_complete -------------------------------------------------------------------


def _pointer(root: Path, text: str | bytes) -> None:
    (root / "keys").mkdir(exist_ok=True)
    path = Path(layout.pointer(str(root), KEY))
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def test_published_reads_a_whole_pointer(tmp_path: Path) -> None:
    _pointer(tmp_path, BUILD + "\n")
    assert layout.published(str(tmp_path), KEY) == BUILD


def test_published_strips_surrounding_blanks(tmp_path: Path) -> None:
    _pointer(tmp_path, f"  {BUILD}  \nignored second line\n")
    assert layout.published(str(tmp_path), KEY) == BUILD


def test_published_without_a_pointer_is_none(tmp_path: Path) -> None:
    assert layout.published(str(tmp_path), KEY) is None


def test_published_of_an_empty_pointer_is_none(tmp_path: Path) -> None:
    _pointer(tmp_path, "")
    assert layout.published(str(tmp_path), KEY) is None


@pytest.mark.parametrize("cut", [1, 10, 20])
def test_published_of_a_truncated_pointer_is_none(tmp_path: Path, cut: int) -> None:
    _pointer(tmp_path, BUILD[:cut])
    assert layout.published(str(tmp_path), KEY) is None


def test_published_of_another_keys_build_is_none(tmp_path: Path) -> None:
    _pointer(tmp_path, "f" * 20 + "-20240601T000000-1\n")
    assert layout.published(str(tmp_path), KEY) is None


def test_published_refuses_a_path_that_leaves_envs(tmp_path: Path) -> None:
    _pointer(tmp_path, f"{SHORT}-x/../../elsewhere\n")
    assert layout.published(str(tmp_path), KEY) is None


def test_published_of_undecodable_bytes_is_none(tmp_path: Path) -> None:
    _pointer(tmp_path, b"\xff\xfe" + BUILD.encode())
    assert layout.published(str(tmp_path), KEY) is None


def test_published_of_a_pointer_that_is_a_folder_is_none(tmp_path: Path) -> None:
    Path(layout.pointer(str(tmp_path), KEY)).mkdir(parents=True)
    assert layout.published(str(tmp_path), KEY) is None


def _marker(env: Path, text: str) -> Path:
    env.mkdir(exist_ok=True)
    (env / layout.COMPLETE).write_text(text, encoding="utf-8")
    return env


def test_looks_complete_with_a_whole_json_object(tmp_path: Path) -> None:
    env = _marker(tmp_path / "env", '{\n  "key": "abc"\n}\n')
    assert layout.looks_complete(str(env))


def test_looks_complete_on_one_line_braces(tmp_path: Path) -> None:
    env = _marker(tmp_path / "env", "{\n}")
    assert layout.looks_complete(str(env))


@pytest.mark.parametrize("text", ["", "{", '{\n  "key": "ab', "not json\n", '{\n  "key": 1\n} trailing\n'])
def test_looks_complete_refuses_a_partial_marker(tmp_path: Path, text: str) -> None:
    env = _marker(tmp_path / "env", text)
    assert not layout.looks_complete(str(env))


def test_looks_complete_without_a_marker(tmp_path: Path) -> None:
    (tmp_path / "env").mkdir()
    assert not layout.looks_complete(str(tmp_path / "env"))
    assert not layout.looks_complete(str(tmp_path / "missing"))


def test_read_lines(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("a\nb\n", encoding="utf-8")
    assert layout.read_lines(str(path)) == ["a", "b"]
    assert layout.read_lines(str(tmp_path / "missing")) is None
    path.write_bytes(b"\xff")
    assert layout.read_lines(str(path)) is None


# --- write_atomic and touch ----------------------------------------------------------------------


def test_write_atomic_text_is_utf8(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    layout.write_atomic(str(target), "héllo\n")
    assert target.read_bytes() == "héllo\n".encode()


def test_write_atomic_bytes_as_given(tmp_path: Path) -> None:
    target = tmp_path / "t.bin"
    layout.write_atomic(str(target), b"\x00\xff\r\n")
    assert target.read_bytes() == b"\x00\xff\r\n"


@pytest.mark.parametrize("durable", [True, False])
def test_write_atomic_replaces_and_leaves_no_temporary_file(tmp_path: Path, durable: bool) -> None:
    target = tmp_path / "t"
    target.write_text("old", encoding="utf-8")
    layout.write_atomic(str(target), "new", durable=durable)
    assert target.read_text(encoding="utf-8") == "new"
    assert os.listdir(tmp_path) == ["t"]


def test_write_atomic_never_shows_a_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # While the data is being written, the target still holds the old text in full.
    target = tmp_path / "t"
    target.write_text("old text", encoding="utf-8")
    seen: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        seen.append(target.read_text(encoding="utf-8"))
        seen.extend(n for n in os.listdir(tmp_path) if n != "t")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    layout.write_atomic(str(target), "new text")
    assert seen[0] == "old text"
    (temp,) = seen[1:]
    assert temp.startswith(".t.") and temp.endswith(".tmp")
    assert target.read_text(encoding="utf-8") == "new text"


def test_write_atomic_failure_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "t"
    target.write_text("old", encoding="utf-8")

    def replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="No space"):
        layout.write_atomic(str(target), "new")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["t"]


def test_write_atomic_interrupted_removes_the_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "t"

    def fsync(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(KeyboardInterrupt):
        layout.write_atomic(str(target), b"data")
    assert os.listdir(tmp_path) == []


def test_write_atomic_into_a_missing_folder_raises_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        layout.write_atomic(str(tmp_path / "missing" / "t"), "x")
    assert os.listdir(tmp_path) == []


def test_touch_creates_a_missing_file(tmp_path: Path) -> None:
    target = tmp_path / "used"
    layout.touch(str(target))
    assert target.read_bytes() == b""


def test_touch_sets_the_mtime_and_keeps_the_content(tmp_path: Path) -> None:
    target = tmp_path / "used"
    target.write_text("keep", encoding="utf-8")
    os.utime(target, (1_000_000, 1_000_000))
    layout.touch(str(target))
    assert target.stat().st_mtime > 1_000_000
    assert target.read_text(encoding="utf-8") == "keep"


def test_touch_is_best_effort(tmp_path: Path) -> None:
    layout.touch(str(tmp_path / "missing" / "used"))  # no folder: nothing happens, nothing raised
    assert not (tmp_path / "missing").exists()


# --- the configuration file -----------------------------------------------------------------------


def test_config_path_from_reprorun_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRORUN_CONFIG", "~/my.toml")
    assert layout.config_path() == os.path.expanduser("~/my.toml")


def test_blank_reprorun_config_is_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REPRORUN_CONFIG", "  ")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert layout.config_path() == str(tmp_path / "reprorun" / "config.toml")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG layout is Linux's")
def test_config_path_is_platformdirs_user_config_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "conf"))
    expected = os.path.join(platformdirs.user_config_dir("reprorun", appauthor=False), "config.toml")
    assert layout.config_path() == expected


def test_config_text_of_a_missing_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REPRORUN_CONFIG", str(tmp_path / "missing.toml"))
    assert layout.config_text() == (str(tmp_path / "missing.toml"), None)


def test_config_text_is_read_once_per_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('installer = "pip"\n', encoding="utf-8")
    monkeypatch.setenv("REPRORUN_CONFIG", str(path))
    first = layout.config_text()
    path.write_text('installer = "uv"\n', encoding="utf-8")
    second = layout.config_text()
    assert second is first
    assert second == (str(path), 'installer = "pip"\n')
    layout.forget_config()
    assert layout.config_text() == (str(path), 'installer = "uv"\n')


def test_config_text_of_another_path_is_read_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("a = 1\n", encoding="utf-8")
    (tmp_path / "b.toml").write_text("b = 2\n", encoding="utf-8")
    monkeypatch.setenv("REPRORUN_CONFIG", str(tmp_path / "a.toml"))
    assert layout.config_text()[1] == "a = 1\n"
    monkeypatch.setenv("REPRORUN_CONFIG", str(tmp_path / "b.toml"))
    assert layout.config_text()[1] == "b = 2\n"


def test_config_text_of_an_absent_file_is_remembered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("REPRORUN_CONFIG", str(path))
    assert layout.config_text()[1] is None
    path.write_text("x = 1\n", encoding="utf-8")
    assert layout.config_text()[1] is None
    layout.forget_config()
    assert layout.config_text()[1] == "x = 1\n"


def test_config_text_of_an_undecodable_file_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe\x00")
    monkeypatch.setenv("REPRORUN_CONFIG", str(path))
    with pytest.raises(UnicodeDecodeError):
        layout.config_text()


def test_config_text_of_a_folder_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REPRORUN_CONFIG", str(tmp_path))
    with pytest.raises(OSError):
        layout.config_text()


# --- the cache root is platformdirs' --------------------------------------------------------------

HOME_SETTINGS = ["absolute", "with a trailing slash"]
XDG_SETTINGS = ["unset", "empty", "blank", "absolute", "absolute with a trailing space", "relative"]


@pytest.mark.skipif(not sys.platform.startswith(("linux", "darwin")), reason="default_root defers to platformdirs")
@pytest.mark.parametrize("home", HOME_SETTINGS)
@pytest.mark.parametrize("xdg", XDG_SETTINGS)
def test_default_root_is_platformdirs_user_cache_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, home: str, xdg: str
) -> None:
    home_dir = str(tmp_path / "home")
    monkeypatch.setenv("HOME", home_dir + ("/" if home == "with a trailing slash" else ""))
    values = {"empty": "", "blank": "   ", "absolute": str(tmp_path / "xdg"),
              "absolute with a trailing space": str(tmp_path / "xdg") + " ", "relative": "relative/cache"}  # fmt: skip
    if xdg == "unset":
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", values[xdg])
    expected = platformdirs.user_cache_dir("reprorun", appauthor=False)
    assert layout.default_root() == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG layout is Linux's")
@pytest.mark.parametrize("xdg", XDG_SETTINGS)
def test_config_path_is_platformdirs_for_every_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       xdg: str) -> None:  # fmt: skip
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    values = {"empty": "", "blank": "   ", "absolute": str(tmp_path / "xdg"),
              "absolute with a trailing space": str(tmp_path / "xdg") + " ", "relative": "relative/config"}  # fmt: skip
    if xdg == "unset":
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", values[xdg])
    expected = os.path.join(platformdirs.user_config_dir("reprorun", appauthor=False), "config.toml")
    assert layout.config_path() == expected


def test_the_warm_path_and_the_full_path_agree_on_the_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from reprorun.envs import cache
    from reprorun.options import Options

    monkeypatch.delenv("REPRORUN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert str(cache.root(Options())) == layout.default_root()


def test_layout_imports_nothing_but_os_and_sys() -> None:
    import ast

    from reprorun import cachefiles

    # layout's names that every start reads are defined in cachefiles (the warm start loads it first)
    for module, expected in ((layout, {"os", "__future__", "reprorun.cachefiles"}), (cachefiles, {"os", "sys"})):
        tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
        top = {a.name for node in tree.body if isinstance(node, ast.Import) for a in node.names}
        top |= {node.module or "" for node in tree.body if isinstance(node, ast.ImportFrom)}
        assert top == expected, module.__name__
