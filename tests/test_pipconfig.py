"""pip's configuration as reprorun reads it: pip's file order, sections, variables, and what each
setting becomes for pip and for uv (issue 12). The real pip is the referee where it can be."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from reprorun.envs import pipconfig
from reprorun.envs.installers import backend_for
from reprorun.envs.installers.pip import PipBackend
from reprorun.envs.installers.sources import Sources, sources_for
from reprorun.envs.installers.uv import UvBackend, find_uv
from reprorun.errors import BuildError, UsageError
from reprorun.options import Options
from reprorun.script.fields import Settings


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A machine whose every pip location lies under tmp_path, with no PIP_* variable set."""
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "etc-xdg"))
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    monkeypatch.setattr(pipconfig, "ETC", str(tmp_path / "etc"))  # this machine has an /etc/pip.conf
    return {
        "global": tmp_path / "etc-xdg" / "pip" / "pip.conf",
        "legacy": home / ".pip" / "pip.conf",
        "user": tmp_path / "xdg-config" / "pip" / "pip.conf",
        "site": tmp_path / "venv" / "pip.conf",
        "env": tmp_path / "named.conf",
    }


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_file_order_is_pips(site, tmp_path):
    files = pipconfig.config_files()
    assert files == [
        ("global", str(site["global"])),
        ("global", str(tmp_path / "etc" / "pip.conf")),
        ("user", str(site["legacy"])),
        ("user", str(site["user"])),
        ("site", str(site["site"])),
    ]


def test_several_xdg_config_dirs_each_hold_a_global_file(site, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"{tmp_path}/a{os.pathsep}{tmp_path}/b")
    kinds = pipconfig.config_files()
    assert kinds[:3] == [("global", f"{tmp_path}/a/pip/pip.conf"), ("global", f"{tmp_path}/b/pip/pip.conf"),
                         ("global", f"{tmp_path}/etc/pip.conf")]  # fmt: skip


def test_the_real_global_folders_are_pips(monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_DIRS", raising=False)
    monkeypatch.delenv("PIP_CONFIG_FILE")
    files = pipconfig.config_files()
    assert files[:2] == [("global", "/etc/xdg/pip/pip.conf"), ("global", "/etc/pip.conf")]


def test_an_existing_pip_config_file_comes_last_and_skips_the_user_files(site, monkeypatch):
    write(site["env"], "[global]\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(site["env"]))
    kinds = [kind for kind, _ in pipconfig.config_files()]
    assert kinds == ["global", "global", "site", "env"]


def test_a_missing_pip_config_file_keeps_the_user_files(site, monkeypatch):
    monkeypatch.setenv("PIP_CONFIG_FILE", str(site["env"]))
    kinds = [kind for kind, _ in pipconfig.config_files()]
    assert kinds == ["global", "global", "user", "user", "site", "env"]


def test_devnull_disables_every_file(site, monkeypatch):
    for path in site.values():
        write(path, "[global]\nfind-links = /somewhere\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert pipconfig.config_files() == []
    assert pipconfig.load().settings == {}


@pytest.mark.parametrize("location", ["global", "legacy", "user", "site", "env"])
def test_a_file_in_each_location_is_read(site, monkeypatch, location):
    write(site[location], "[global]\nfind-links = /wheels\n")
    if location == "env":
        monkeypatch.setenv("PIP_CONFIG_FILE", str(site["env"]))
    config = pipconfig.load()
    assert config.items("find-links") == ("/wheels",)
    assert config.files == (str(site[location]),)
    assert config.settings["find-links"].origin == f"{site[location]} [global]"


def test_later_files_win_in_pips_order(site, monkeypatch):
    for location in ("global", "legacy", "user", "site"):
        write(site[location], f"[global]\nindex-url = https://{location}.invalid/simple\n")
    assert pipconfig.load().get("index-url") == "https://site.invalid/simple"
    site["site"].unlink()
    assert pipconfig.load().get("index-url") == "https://user.invalid/simple"
    site["user"].unlink()
    assert pipconfig.load().get("index-url") == "https://legacy.invalid/simple"
    write(site["env"], "[global]\nindex-url = https://env.invalid/simple\n")
    write(site["site"], "[global]\nindex-url = https://site.invalid/simple\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(site["env"]))
    assert pipconfig.load().get("index-url") == "https://env.invalid/simple"


def test_install_section_beats_global_and_variables_beat_both(site, monkeypatch):
    write(site["user"], "[install]\nfind-links = /install\n[global]\nfind-links = /global\nno-index = yes\n"
                        "[list]\nformat = json\n")  # fmt: skip
    config = pipconfig.load()
    assert config.items("find-links") == ("/install",)
    assert config.flag("no-index") is True
    assert "format" not in config.settings  # another command's section
    monkeypatch.setenv("PIP_FIND_LINKS", "/env-a /env-b")
    monkeypatch.setenv("PIP_NO_INDEX", "off")
    config = pipconfig.load()
    assert config.items("find-links") == ("/env-a", "/env-b")
    assert config.flag("no-index") is False
    assert config.settings["find-links"].origin == "PIP_FIND_LINKS"


def test_keys_are_spelled_as_pip_spells_them_and_empty_values_are_ignored(site, monkeypatch):
    write(site["user"], "[global]\nEXTRA_INDEX_URL = https://a.invalid/simple\n  https://b.invalid/simple\n"
                        "find-links =\n")  # fmt: skip
    config = pipconfig.load()
    assert config.items("extra-index-url") == ("https://a.invalid/simple", "https://b.invalid/simple")
    assert "find-links" not in config.settings


def test_binary_lists_accumulate_across_levels(site, monkeypatch):
    write(site["user"], "[global]\nonly-binary = :all:\n[install]\nno-binary = alpha\n")
    monkeypatch.setenv("PIP_ONLY_BINARY", "beta")
    config = pipconfig.load()
    assert config.get("only-binary") == ":all:,beta"
    assert config.get("no-binary") == "alpha"


def test_a_setting_that_is_not_a_boolean_is_an_error_naming_it(site):
    write(site["user"], "[global]\nno-index = maybe\n")
    with pytest.raises(UsageError, match=r"pip\.conf \[global\]: pip setting 'no-index' is not a boolean"):
        sources_for(Options(), Settings())


def test_an_unreadable_file_is_an_error_naming_it(site):
    write(site["user"], "no section header\n")
    with pytest.raises(UsageError, match=r"pip\.conf: pip's configuration file is not valid"):
        pipconfig.load()


def test_reading_agrees_with_pip_itself(site, monkeypatch, tmp_path):
    # pip's own `config list` shows the merged file values: reprorun must see the same files win.
    write(site["global"], "[global]\nindex-url = https://global.invalid/simple\ntimeout = 5\n")
    write(site["user"], "[global]\nindex-url = https://user.invalid/simple\n[install]\npre = true\n")
    write(site["site"], "[global]\nfind-links = /site\n")
    # pip's site file is its interpreter's sys.prefix: run pip by the venv's own interpreter.
    from virtualenv import cli_run

    cli_run([str(site["site"].parent), "--no-seed", "--no-periodic-update", "--quiet"], setup_logging=False)
    import pip

    env = {**os.environ, "PYTHONPATH": str(Path(pip.__file__).parent.parent)}
    result = subprocess.run([str(site["site"].parent / "bin" / "python"), "-m", "pip", "config", "list"],
                            capture_output=True, text=True, check=True, env=env)  # fmt: skip
    pips = dict(line.split("=", 1) for line in result.stdout.splitlines())
    # The machine's real /etc/pip.conf, which a test cannot move, is read by pip too: set it aside.
    import configparser

    etc = configparser.RawConfigParser()
    etc.read("/etc/pip.conf")
    pips = {k: v for k, v in pips.items() if k not in {f"{s}.{n}" for s in etc.sections() for n in etc[s]}}
    assert pips == {"global.index-url": "'https://user.invalid/simple'", "global.timeout": "'5'",
                    "install.pre": "'true'", "global.find-links": "'/site'"}  # fmt: skip
    config = pipconfig.load()
    assert {n: s.value for n, s in config.settings.items()} == {
        "index-url": "https://user.invalid/simple", "timeout": "5", "pre": "true", "find-links": "/site",
    }  # fmt: skip


def test_fingerprint_changes_with_every_input(site, monkeypatch):
    before = pipconfig.fingerprint()
    write(site["site"], "[global]\nfind-links = /a\n")
    after_file = pipconfig.fingerprint()
    monkeypatch.setenv("PIP_FIND_LINKS", "/b")
    after_variable = pipconfig.fingerprint()
    assert len({before, after_file, after_variable}) == 3


# --- what each setting becomes --------------------------------------------------------------


def sources(site, text: str, **options: object) -> Sources:
    write(site["user"], text)
    return sources_for(Options(**options), Settings())  # type: ignore[arg-type]


def test_every_mapped_setting_reaches_pip_and_uv(site, tmp_path):
    constraint = write(tmp_path / "c.txt", "alpha==1.0\n")
    cert, client = write(tmp_path / "ca.pem", ""), write(tmp_path / "client.pem", "")
    found = sources(site, f"""[global]
index-url = https://index.invalid/simple
extra-index-url = https://extra.invalid/simple
find-links = /wheels
trusted-host = index.invalid extra.invalid:8443
cert = {cert}
client-cert = {client}
constraint = {constraint}
only-binary = :all:
no-binary = delta
pre = true
""")
    assert found.pip_args() == [
        "--index-url", "https://index.invalid/simple", "--extra-index-url", "https://extra.invalid/simple",
        "--find-links", "/wheels", "--trusted-host", "index.invalid", "--trusted-host", "extra.invalid:8443",
        "--cert", str(cert), "--client-cert", str(client), "--constraint", str(constraint),
        "--no-binary", "delta", "--only-binary", ":all:", "--pre",
    ]  # fmt: skip
    assert found.uv_args() == [
        "--default-index", "https://index.invalid/simple", "--index", "https://extra.invalid/simple",
        "--find-links", "/wheels", "--index-strategy", "unsafe-best-match",
        "--allow-insecure-host", "index.invalid", "--allow-insecure-host", "extra.invalid:8443",
        "--prerelease", "allow", "--constraints", str(constraint), "--no-binary", "delta",
        "--only-binary", ":all:",
    ]  # fmt: skip
    assert found.uv_environ() == {"SSL_CERT_FILE": str(cert), "SSL_CLIENT_CERT": str(client)}
    assert not found.uv_can_sync  # constraints and binary lists need `uv pip install`
    assert found.pip_only == ()


def test_no_index_and_find_links_from_pip_reach_both(site):
    found = sources(site, "[global]\nno-index = true\nfind-links = /site/wheelhouse\n")
    assert (found.no_index, found.find_links) == (True, ("/site/wheelhouse",))
    assert found.uv_args(sync=True) == ["--find-links", "/site/wheelhouse", "--no-index"]
    assert found.uv_can_sync


def test_the_command_line_adds_to_pip_and_overrides_its_index(site):
    found = sources(site, "[global]\nindex-url = https://site.invalid/simple\nfind-links = /site\n",
                    index_url="https://mine.invalid/simple", find_links=("/mine",))  # fmt: skip
    assert found.index_url == "https://mine.invalid/simple"
    assert found.find_links == ("/site", "/mine")


def test_pip_gets_exactly_what_reprorun_read(site, monkeypatch):
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "60")
    monkeypatch.setenv("PIP_USER", "1")
    found = sources(site, "[global]\nprefer-binary = true\nfind-links = /site\n")
    changes = found.pip_environ()
    assert changes["PIP_CONFIG_FILE"] == os.devnull  # pip does not read its files a second time
    assert changes["PIP_PREFER_BINARY"] == "true"  # what only pip understands goes on to it
    assert changes["PIP_DEFAULT_TIMEOUT"] == "60"
    assert changes["PIP_USER"] is None  # an env's install never goes to the user site
    assert changes.get("PIP_FIND_LINKS") is None  # given as --find-links instead


def test_relative_paths_are_made_absolute(site, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "c.txt", "")
    found = sources(site, "[global]\nfind-links = wheels\nconstraint = c.txt\n")
    assert found.find_links == (str(tmp_path / "wheels"),)
    assert found.constraints == (str(tmp_path / "c.txt"),)


def test_a_missing_constraint_file_is_an_error(site, tmp_path):
    with pytest.raises(BuildError, match=r"constraint file .* cannot be read"):
        sources(site, f"[global]\nconstraint = {tmp_path / 'none.txt'}\n")


def test_harmless_settings_stay_out_of_the_key_and_others_go_in(site):
    from reprorun.envs import keys

    plain = keys.document(["alpha"], _interpreter(), sources(site, "[global]\nfind-links = /w\n"))
    timed = keys.document(["alpha"], _interpreter(), sources(site, "[global]\nfind-links = /w\ntimeout = 3\n"))
    prefers = sources(site, "[global]\nfind-links = /w\nprefer-binary = 1\n")
    preferring = keys.document(["alpha"], _interpreter(), prefers)
    assert plain == timed
    assert preferring["sources"]["pip-only"] == {"prefer-binary": "1"}
    constrained = keys.document(["alpha"], _interpreter(), Sources(constraints_sha256=("ab",)))
    assert constrained["sources"]["constraints"] == ["ab"]
    assert keys.digest(plain) != keys.digest(preferring)


def _interpreter():
    from reprorun.envs.interpreters import Interpreter

    return Interpreter("/usr/bin/python3", "cpython", "3.11.7", "cp311", "linux-x86_64", "manylinux_2_36_x86_64")


# --- which installer may build --------------------------------------------------------------


@pytest.mark.skipif(find_uv() is None, reason="uv is not installed")
def test_auto_uses_uv_when_every_setting_maps(site, tmp_path):
    found = sources(site, "[global]\nno-index = true\nfind-links = /w\ntimeout = 9\n")
    assert isinstance(backend_for("auto", sources=found), UvBackend)


@pytest.mark.skipif(find_uv() is None, reason="uv is not installed")
def test_auto_uses_pip_and_says_why_when_a_setting_does_not_map(site, caplog):
    found = sources(site, "[global]\nproxy = http://proxy.invalid:3128\n")
    with caplog.at_level("DEBUG", logger="reprorun"):
        assert isinstance(backend_for("auto", sources=found), PipBackend)
    assert "uv cannot be given pip's setting 'proxy'" in caplog.text
    assert str(site["user"]) in caplog.text


def test_installer_uv_with_such_a_setting_is_an_error_naming_it(site):
    found = sources(site, "[install]\nprefer-binary = yes\n")
    expected = r"--installer uv: pip's setting 'prefer-binary = yes' \(.*pip\.conf \[install\]\)"
    with pytest.raises(BuildError, match=expected):
        backend_for("uv", sources=found)


def test_the_machine_running_the_suite_reads_cleanly():
    # The autouse fixture points PIP_CONFIG_FILE at os.devnull: only the variables count.
    config = pipconfig.load()
    assert config.files == ()
    assert json.loads(json.dumps(sorted(config.settings))) == sorted(config.settings)
