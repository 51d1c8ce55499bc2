"""The user configuration file: defaults below the command line and the environment (issue 6)."""

from __future__ import annotations

import pytest

from reprorun import config
from reprorun.errors import ConfigError


def test_parse_reads_every_setting(tmp_path):
    text = ('cache-dir = "~/rr"\ninstaller = "pip"\nindex-url = "https://i.example/simple"\n'
            'extra-index-urls = ["https://x.example/simple"]\nfind-links = ["wheels"]\n'
            'prune-older-than = "10d"\n')
    conf = config.parse(text, str(tmp_path / "config.toml"))
    assert conf.installer == "pip"
    assert conf.index_url == "https://i.example/simple"
    assert conf.extra_index_urls == ("https://x.example/simple",)
    assert conf.find_links == (str(tmp_path / "wheels"),)  # relative to the file
    assert conf.cache_dir is not None and not conf.cache_dir.startswith("~")
    assert conf.prune_older_than == "10d"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('installer = "pip"\ncache-dir = [1]\n', 2, "'cache-dir' must be a string"),
        ('\n\ninstaller = "conda"\n', 3, "'installer' must be one of"),
        ('find-links = "wheels"\n', 1, "'find-links' must be an array of strings"),
        ('prune-older-than = "soon"\n', 1, "not a duration"),
        ('installer = "pip"\nindex-url = \n', 2, "invalid TOML"),
    ],
)
def test_invalid_config_names_file_and_line(tmp_path, text, line, message):
    path = str(tmp_path / "config.toml")
    with pytest.raises(ConfigError, match=message) as info:
        config.parse(text, path)
    assert info.value.message.startswith(f"{path}:{line}: ")


def test_cli_reports_an_invalid_config(run_reprorun, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('cache-dir = 3\n')
    result = run_reprorun("cache", "dir", env={"REPRORUN_CONFIG": str(bad)})
    assert result.returncode == 2
    assert f"reprorun: error: {bad}:1: 'cache-dir' must be a string" in result.stderr


def test_missing_named_config_is_an_error(run_reprorun, tmp_path):
    result = run_reprorun("cache", "dir", env={"REPRORUN_CONFIG": str(tmp_path / "nope.toml")})
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_precedence_cli_then_environment_then_file(run_reprorun, tmp_path, monkeypatch):
    monkeypatch.delenv("REPRORUN_CACHE_DIR")
    conf = tmp_path / "config.toml"
    conf.write_text(f'cache-dir = "{tmp_path / "from-file"}"\nunknown = 1\n')
    env = {"REPRORUN_CONFIG": str(conf)}
    from_file = run_reprorun("cache", "dir", env=env)
    assert from_file.stdout == f"{tmp_path / 'from-file'}\n"
    assert "unknown key 'unknown'" in from_file.stderr
    env_var = run_reprorun("cache", "dir", env={**env, "REPRORUN_CACHE_DIR": str(tmp_path / "from-env")})
    assert env_var.stdout == f"{tmp_path / 'from-env'}\n"
    cli = run_reprorun("--cache-dir", tmp_path / "from-cli", "cache", "dir",
                       env={**env, "REPRORUN_CACHE_DIR": str(tmp_path / "from-env")})  # fmt: skip
    assert cli.stdout == f"{tmp_path / 'from-cli'}\n"


def test_default_location_is_the_user_config_dir(run_reprorun, tmp_path, monkeypatch):
    monkeypatch.delenv("REPRORUN_CACHE_DIR")
    import os

    folder = tmp_path / "xdg"
    (folder / "reprorun").mkdir(parents=True)
    (folder / "reprorun" / "config.toml").write_text(f'cache-dir = "{tmp_path / "c"}"\n')
    assert run_reprorun("cache", "dir", env={"XDG_CONFIG_HOME": str(folder)}).stdout == f"{tmp_path / 'c'}\n"
    assert os.environ.get("REPRORUN_CONFIG") is None


def test_prune_age_default_comes_from_the_file(run_reprorun, tmp_path):
    conf = tmp_path / "config.toml"
    conf.write_text('prune-older-than = "0d"\n')
    env = tmp_path / "cache" / "envs" / ("a" * 20 + "-00000000")
    result = run_reprorun("--cache-dir", tmp_path / "cache", "cache", "prune", "--dry-run",
                          env={"REPRORUN_CONFIG": str(conf)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not env.exists()
