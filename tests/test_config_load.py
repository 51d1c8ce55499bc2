"""config.py: load() once per process, the file REPRORUN_CONFIG names, unreadable files, every key's
validation naming file:line, paths relative to the file, and the CLI > environment > file order."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reprorun import config
from reprorun.config import Config
from reprorun.envs import layout
from reprorun.errors import ConfigError


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    layout.forget_config()
    yield
    layout.forget_config()


@pytest.fixture
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("REPRORUN_CONFIG", str(path))
    return path


# --- load ----------------------------------------------------------------------------------------


def test_load_without_a_file_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPRORUN_CONFIG", raising=False)
    assert config.load() == Config()


def test_load_reads_the_user_config_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("REPRORUN_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "reprorun").mkdir()
    (tmp_path / "reprorun" / "config.toml").write_text('installer = "pip"\n', encoding="utf-8")
    loaded = config.load()
    assert loaded.installer == "pip"
    assert loaded.path == str(tmp_path / "reprorun" / "config.toml")


def test_load_is_memoised(conf: Path) -> None:
    conf.write_text('installer = "uv"\n', encoding="utf-8")
    first = config.load()
    conf.write_text('installer = "pip"\n', encoding="utf-8")
    assert config.load() is first
    assert first.installer == "uv"


def test_load_after_forget_reads_again(conf: Path) -> None:
    conf.write_text('installer = "uv"\n', encoding="utf-8")
    assert config.load().installer == "uv"
    conf.write_text('installer = "pip"\n', encoding="utf-8")
    layout.forget_config()
    assert config.load().installer == "pip"


def test_load_reads_the_file_once(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf.write_text('installer = "uv"\n', encoding="utf-8")
    import builtins

    opened: list[str] = []
    real_open = builtins.open

    def counting_open(file, *args, **kwargs):
        if os.fspath(file) == str(conf):
            opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    for _ in range(3):
        config.load()
    config.option_defaults({})
    assert opened == [str(conf)]


def test_reprorun_config_naming_a_missing_file(conf: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config.load()
    assert info.value.message == f"{conf}: REPRORUN_CONFIG names a file that does not exist"
    assert info.value.exit_code == 2


def test_reprorun_config_blank_is_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REPRORUN_CONFIG", " ")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config.load() == Config()


def test_an_undecodable_file_is_a_config_error(conf: Path) -> None:
    conf.write_bytes(b'installer = "\xff"\n')
    with pytest.raises(ConfigError, match=r"cannot read the configuration file") as info:
        config.load()
    assert info.value.message.startswith(f"{conf}: ")


def test_a_folder_is_a_config_error(conf: Path) -> None:
    conf.mkdir()
    with pytest.raises(ConfigError, match=r"cannot read the configuration file"):
        config.load()


def test_an_invalid_file_is_reported_by_load(conf: Path) -> None:
    conf.write_text('\ninstaller = 3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{conf}:2: 'installer' must be a string$"):
        config.load()


# --- parse: every key --------------------------------------------------------------------------------

P = "/etc/reprorun/config.toml"


@pytest.mark.parametrize("key", ["cache-dir", "installer", "index-url", "prune-older-than", "record"])
@pytest.mark.parametrize("value", ["1", "true", "[]", '["x"]', "{ a = 1 }"])
def test_every_string_key_refuses_other_types(key: str, value: str) -> None:
    text = f'# a comment\n\n{key} = {value}\n'
    with pytest.raises(ConfigError) as info:
        config.parse(text, P)
    assert info.value.message == f"{P}:3: '{key}' must be a string"


@pytest.mark.parametrize("key", ["extra-index-urls", "find-links"])
@pytest.mark.parametrize("value", ['"x"', "1", '["x", 1]', "[[]]", "{ a = 1 }"])
def test_every_list_key_refuses_other_types(key: str, value: str) -> None:
    text = f'installer = "pip"\n{key} = {value}\n'
    with pytest.raises(ConfigError) as info:
        config.parse(text, P)
    assert info.value.message == f"{P}:2: '{key}' must be an array of strings"


def test_a_quoted_key_is_found_on_its_line() -> None:
    with pytest.raises(ConfigError, match=rf"^{P}:2: 'installer' must be a string"):
        config.parse('record = "r"\n"installer" = 1\n', P)


@pytest.mark.parametrize("installer", ["auto", "pip", "uv"])
def test_installer_values(installer: str) -> None:
    assert config.parse(f'installer = "{installer}"\n', P).installer == installer


def test_installer_unknown_value() -> None:
    with pytest.raises(ConfigError) as info:
        config.parse('\ninstaller = "conda"\n', P)
    assert info.value.message == f"{P}:2: 'installer' must be one of auto, pip, uv"


@pytest.mark.parametrize("age", ["30d", "12h", "2w"])
def test_prune_older_than_durations(age: str) -> None:
    assert config.parse(f'prune-older-than = "{age}"\n', P).prune_older_than == age


@pytest.mark.parametrize("age", ["soon", "", "-3d", "3 parsecs"])
def test_prune_older_than_refuses(age: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{P}:1: "):
        config.parse(f'prune-older-than = "{age}"\n', P)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('installer = "pip"\nindex-url = \n', 2),
        ('installer = "pip"\ninstaller = "uv"\n', 2),
        ("[table\n", 1),
        ('a = "unclosed\n', 1),
    ],
)
def test_invalid_toml_names_the_line(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as info:
        config.parse(text, P)
    assert info.value.message.startswith(f"{P}:{line}: invalid TOML: ")
    assert "(at line" not in info.value.message


def test_unknown_keys_are_warnings_with_their_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="reprorun"):
        parsed = config.parse('installer = "pip"\n\ncolour = "blue"\n', P)
    assert parsed.installer == "pip"
    assert [r.getMessage() for r in caplog.records] == [f"{P}:3: unknown key 'colour' ignored"]


def test_an_empty_file_is_empty_settings() -> None:
    assert config.parse("", P) == Config(path=P)


def test_paths_are_relative_to_the_file_and_urls_kept(tmp_path: Path) -> None:
    path = str(tmp_path / "sub" / "config.toml")
    parsed = config.parse('cache-dir = "cache"\nrecord = "~/runs"\n'
                          'find-links = ["wheels", "/abs", "https://w.example/"]\n', path)  # fmt: skip
    assert parsed.cache_dir == str(tmp_path / "sub" / "cache")
    assert parsed.record == os.path.expanduser("~/runs")
    assert parsed.find_links == (str(tmp_path / "sub" / "wheels"), "/abs", "https://w.example/")


def test_urls_are_not_paths() -> None:
    parsed = config.parse('index-url = "https://i.example/simple"\nextra-index-urls = ["https://x/simple"]\n', P)
    assert parsed.index_url == "https://i.example/simple"
    assert parsed.extra_index_urls == ("https://x/simple",)


# --- option_defaults: command line > environment > file ---------------------------------------------


def test_option_defaults_from_the_file(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REPRORUN_CACHE_DIR", "PIP_FIND_LINKS", "UV_FIND_LINKS"):
        monkeypatch.delenv(name, raising=False)
    conf.write_text('installer = "pip"\ncache-dir = "/c"\nindex-url = "https://i/simple"\n'
                    'extra-index-urls = ["https://e/simple"]\nfind-links = ["/w"]\n', encoding="utf-8")  # fmt: skip
    values = config.option_defaults({})  # issue 12 added python_default, python_origin and no_build
    assert {k: values[k] for k in ("installer", "cache_dir", "index_url", "extra_index_urls", "find_links")} == {
        "installer": "pip", "cache_dir": "/c", "index_url": "https://i/simple",
        "extra_index_urls": ("https://e/simple",), "find_links": ("/w",)}  # fmt: skip


def test_option_defaults_the_command_line_wins(conf: Path) -> None:
    conf.write_text('installer = "pip"\ncache-dir = "/c"\nfind-links = ["/w"]\n', encoding="utf-8")
    values = config.option_defaults({"installer": "uv", "cache_dir": "/cli", "find_links": ["/cli-w"]})
    assert (values["installer"], values["cache_dir"], values["find_links"]) == ("uv", "/cli", ("/cli-w",))


def test_option_defaults_the_environment_beats_the_file(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf.write_text('installer = "pip"\ncache-dir = "/c"\nindex-url = "https://file/simple"\n', encoding="utf-8")
    monkeypatch.setenv("REPRORUN_INSTALLER", "uv")
    monkeypatch.setenv("REPRORUN_CACHE_DIR", "/env")
    monkeypatch.setenv("UV_DEFAULT_INDEX", "https://uv/simple")
    values = config.option_defaults({})
    assert values["installer"] == "uv"
    assert values["cache_dir"] == "/env"
    assert values["index_url"] is None  # pip and uv read their own variable


@pytest.mark.parametrize("variable", ["PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX"])
def test_option_defaults_pip_or_uv_extra_index_variables_hide_the_file(
    conf: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    conf.write_text('extra-index-urls = ["https://file/simple"]\n', encoding="utf-8")
    monkeypatch.setenv(variable, "https://env/simple")
    assert config.option_defaults({})["extra_index_urls"] == ()


def test_option_defaults_without_anything(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("PIP_", "UV_", "REPRORUN_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    values = config.option_defaults({})  # issue 12 added python_default, python_origin and no_build
    assert {k: values[k] for k in ("installer", "cache_dir", "index_url", "extra_index_urls", "find_links")} == {
        "installer": "auto", "cache_dir": None, "index_url": None,
        "extra_index_urls": (), "find_links": ()}  # fmt: skip
