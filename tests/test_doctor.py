"""`reprorun doctor`'s package sources come from pip's real configuration files, secrets masked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def _sources(run_reprorun, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    result = run_reprorun("doctor", "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    sources: dict[str, str] = json.loads(result.stdout)["package sources"]
    return sources


def _pip_conf(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_pip_config_file_is_shown_with_its_origin_and_secrets_masked(run_reprorun, tmp_path):
    conf = _pip_conf(tmp_path / "site" / "pip.conf", "[global]\n"
                     "index-url = https://ada:hunter2@mirror.example/simple\n"
                     "extra-index-url =\n    https://tok3n@extra.example/simple\n    https://plain.example/simple\n"
                     "timeout = 60\n"
                     "[install]\nfind-links = /shared/wheelhouse\n")  # fmt: skip
    sources = _sources(run_reprorun, env={"PIP_CONFIG_FILE": str(conf), "PIP_NO_INDEX": "",
                                          "PIP_FIND_LINKS": ""})  # fmt: skip
    assert sources["index-url (pip)"] == f"https://ada:***@mirror.example/simple  [{conf} [global]]"
    assert sources["extra-index-url (pip)"].startswith("https://***@extra.example/simple https://plain.example/simple")
    assert sources["find-links (pip)"] == f"/shared/wheelhouse  [{conf} [install]]"
    # pip reads the global files (/etc/pip.conf, ...) too when PIP_CONFIG_FILE names a file; that one is last.
    assert sources["pip config files read"].split()[-1] == str(conf)
    assert "timeout (pip)" not in sources  # changes nothing installed
    assert "hunter2" not in json.dumps(sources) and "tok3n" not in json.dumps(sources)


def test_the_install_section_and_pip_variables_override_the_files_as_in_pip(run_reprorun, tmp_path, monkeypatch):
    # The user's own file, found where pip finds it (XDG_CONFIG_HOME), not named by PIP_CONFIG_FILE.
    monkeypatch.delenv("PIP_CONFIG_FILE")
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "nowhere"))
    xdg = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    conf = _pip_conf(xdg / "pip" / "pip.conf", "[global]\nindex-url = https://global.example/simple\n"
                     "proxy = http://me:pw@proxy.example:3128\n"
                     "[install]\nindex-url = https://install.example/simple\n")  # fmt: skip
    sources = _sources(run_reprorun, env={"PIP_FIND_LINKS": "/a /b", "PIP_NO_INDEX": "1"})
    assert sources["index-url (pip)"] == f"https://install.example/simple  [{conf} [install]]"
    assert sources["find-links (pip)"] == "/a /b  [PIP_FIND_LINKS]"
    assert sources["no-index (pip)"] == "1  [PIP_NO_INDEX]"
    # A setting uv cannot be given decides the installer, so doctor shows it (its secret masked).
    assert sources["proxy (pip)"] == f"http://me:***@proxy.example:3128  [{conf} [global]]"
    # pip itself agrees about the index: its own `config list` reads the same file.
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                            check=True).stdout  # fmt: skip
    assert "install.index-url='https://install.example/simple'" in listed


def test_reprorun_options_come_first_and_no_setting_means_the_public_index(run_reprorun, tmp_path, monkeypatch):
    for name in ("UV_NO_CONFIG", "UV_OFFLINE"):
        monkeypatch.delenv(name)
    bare = {"PIP_NO_INDEX": "", "PIP_FIND_LINKS": ""}  # and PIP_CONFIG_FILE=/dev/null: no file at all
    assert _sources(run_reprorun, env=bare) == {"(defaults)": "the public index (https://pypi.org/simple)"}
    sources = _sources(run_reprorun, "--index-url", "https://u:p@idx.example/simple", "--find-links",
                       str(tmp_path), env=bare)  # fmt: skip
    assert sources == {"index-url (reprorun)": "https://u:***@idx.example/simple",
                       "find-links (reprorun)": str(tmp_path)}  # fmt: skip


def test_a_broken_pip_config_file_is_reported_not_fatal(run_reprorun, tmp_path):
    conf = _pip_conf(tmp_path / "pip.conf", "index-url = https://nosection.example/simple\n")
    result = run_reprorun("doctor", env={"PIP_CONFIG_FILE": str(conf)})
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "pip configuration:" in line)
    assert "not readable" in line and str(conf) in line


@pytest.mark.parametrize("variable", ["PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"])
def test_a_secret_in_a_pip_variable_is_masked_in_the_text_report(run_reprorun, variable):
    result = run_reprorun("doctor", env={variable: "https://me:s3cret@pypi.example/simple"})
    assert result.returncode == 0, result.stderr
    assert "s3cret" not in result.stdout
    assert f"https://me:***@pypi.example/simple  [{variable}]" in result.stdout
