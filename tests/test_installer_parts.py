"""envs/installers: the pure sources, the shared request helpers and install-error parser, the pip
command builder, and the env layout read from a real folder of files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reprorun.envs.installers import base, pip, sources, venv
from reprorun.envs.installers.sources import Sources
from reprorun.errors import BuildError
from reprorun.options import Options
from reprorun.processes import Result
from reprorun.script.fields import Settings

# --- Sources.pip_args / uv_args, one field at a time -------------------------------------------------


def test_empty_sources_say_nothing() -> None:
    assert Sources().pip_args() == []
    assert Sources().uv_args() == []


def test_index_url() -> None:
    s = Sources(index_url="https://pypi.example/simple")
    assert s.pip_args() == ["--index-url", "https://pypi.example/simple"]
    assert s.uv_args() == ["--default-index", "https://pypi.example/simple"]


def test_extra_index_urls_in_order() -> None:
    s = Sources(extra_index_urls=("https://a.example/simple", "https://b.example/simple"))
    assert s.pip_args() == ["--extra-index-url", "https://a.example/simple",
                            "--extra-index-url", "https://b.example/simple"]  # fmt: skip
    # issue 12: more than one place to look takes pip's rule, the best version of all of them
    assert s.uv_args() == ["--index", "https://a.example/simple", "--index", "https://b.example/simple",
                           "--index-strategy", "unsafe-best-match"]  # fmt: skip


def test_find_links_in_order() -> None:
    s = Sources(find_links=("/w1", "https://w2.example/"))
    assert s.pip_args() == ["--find-links", "/w1", "--find-links", "https://w2.example/"]
    assert s.uv_args() == ["--find-links", "/w1", "--find-links", "https://w2.example/",
                           "--index-strategy", "unsafe-best-match"]  # fmt: skip


def test_no_index() -> None:
    assert Sources(no_index=True).pip_args() == ["--no-index"]
    assert Sources(no_index=True).uv_args() == ["--no-index"]


def test_offline_is_no_index_for_pip_and_offline_for_uv() -> None:
    assert Sources(offline=True).pip_args() == ["--no-index"]
    assert Sources(offline=True).uv_args() == ["--offline"]


def test_no_index_and_offline_once_for_pip() -> None:
    assert Sources(no_index=True, offline=True).pip_args() == ["--no-index"]
    assert Sources(no_index=True, offline=True).uv_args() == ["--no-index", "--offline"]


def test_exclude_newer() -> None:
    s = Sources(exclude_newer="2024-06-01T00:00:00Z")
    assert s.pip_args() == ["--uploaded-prior-to", "2024-06-01T00:00:00Z"]
    assert s.uv_args() == ["--exclude-newer", "2024-06-01T00:00:00Z"]


def test_every_field_at_once_in_a_stable_order() -> None:
    s = Sources("https://i/simple", ("https://e/simple",), ("/w",), True, True, "2024-01-01T00:00:00Z")
    assert s.pip_args() == ["--index-url", "https://i/simple", "--extra-index-url", "https://e/simple",
                            "--find-links", "/w", "--no-index", "--uploaded-prior-to", "2024-01-01T00:00:00Z"]
    assert s.uv_args() == ["--default-index", "https://i/simple", "--index", "https://e/simple",
                           "--find-links", "/w", "--no-index", "--offline", "--index-strategy", "unsafe-best-match",
                           "--exclude-newer", "2024-01-01T00:00:00Z"]  # fmt: skip


def test_every_field_changes_the_arguments() -> None:
    # A field that no argument reflects would make two different sources build the same way.
    changed = [Sources(index_url="x"), Sources(extra_index_urls=("x",)), Sources(find_links=("x",)),
               Sources(no_index=True), Sources(offline=True), Sources(exclude_newer="2024-01-01T00:00:00Z")]
    # issue 12's fields (pip's configuration: trusted hosts, certificates, constraints, ...) are
    # tested against pip and uv in test_pipconfig.py and test_site_config.py
    for s in changed:
        assert s.pip_args() != [] and s.uv_args() != []


# --- sources_for ----------------------------------------------------------------------------------


@pytest.fixture
def _no_pip_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """sources_for reads pip's configuration too (issue 12): these tests look at reprorun's own part."""
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)


@pytest.mark.usefixtures("_no_pip_settings")
def test_sources_for_prefers_the_command_line_index() -> None:
    merged = sources.sources_for(Options(index_url="https://cli/simple"), Settings(index_url="https://block/simple"))
    assert merged.index_url == "https://cli/simple"
    assert sources.sources_for(Options(), Settings(index_url="https://block/simple")).index_url == (
        "https://block/simple")


@pytest.mark.usefixtures("_no_pip_settings")
def test_sources_for_concatenates_extra_indexes_cli_first() -> None:
    merged = sources.sources_for(Options(extra_index_urls=("https://a",)), Settings(extra_index_urls=("https://b",)))
    assert merged.extra_index_urls == ("https://a", "https://b")


@pytest.mark.usefixtures("_no_pip_settings")
def test_sources_for_makes_find_links_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    merged = sources.sources_for(
        Options(find_links=("cli-wheels", "https://links.example/")),
        Settings(find_links=("block-wheels", "/abs/wheels", "file:///x")),
        base="/scripts/here",
    )
    assert merged.find_links == (str(tmp_path / "cli-wheels"), "https://links.example/",
                                 "/scripts/here/block-wheels", "/abs/wheels", "file:///x")  # fmt: skip


@pytest.mark.usefixtures("_no_pip_settings")
def test_sources_for_block_links_without_a_base_are_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    merged = sources.sources_for(Options(), Settings(find_links=("../w",)))
    assert merged.find_links == (os.path.abspath(tmp_path / ".." / "w"),)


@pytest.mark.usefixtures("_no_pip_settings")
def test_sources_for_normalises_the_path() -> None:
    merged = sources.sources_for(Options(), Settings(find_links=("./a/../b",)), base="/s")
    assert merged.find_links == ("/s/b",)


@pytest.mark.usefixtures("_no_pip_settings")
def test_sources_for_flags_come_from_the_options() -> None:
    merged = sources.sources_for(Options(no_index=True, offline=True), Settings())
    assert (merged.no_index, merged.offline) == (True, True)
    assert sources.sources_for(Options(), Settings()) == Sources()


@pytest.mark.usefixtures("_no_pip_settings")
def test_sources_for_exclude_newer_argument_wins_and_is_utc() -> None:
    settings = Settings(exclude_newer="2024-01-01")
    assert sources.sources_for(Options(), settings).exclude_newer == "2024-01-01T00:00:00Z"
    assert sources.sources_for(Options(), settings, exclude_newer="2024-06-01T02:00:00+02:00").exclude_newer == (
        "2024-06-01T00:00:00Z")


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        (None, None),
        ("2024-06-01", "2024-06-01T00:00:00Z"),
        ("2024-06-01T10:00:00", "2024-06-01T10:00:00Z"),
        ("2024-06-01T10:00:00+05:30", "2024-06-01T04:30:00Z"),
        ("2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00Z"),
    ],
)
def test_utc_timestamp(value: str | None, utc: str | None) -> None:
    assert sources.utc_timestamp(value) == utc


def test_utc_timestamp_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        sources.utc_timestamp("soon")


# --- base: requirement_args, hashed_requirements, install_error --------------------------------------


def test_requirement_args_without_hashes_are_the_requirements(tmp_path: Path) -> None:
    request = base.InstallRequest(("a==1", "b>=2"), Sources(), {})
    assert base.requirement_args(tmp_path, request) == ["a==1", "b>=2"]
    assert list(tmp_path.iterdir()) == []


def test_requirement_args_with_hashes_write_a_requirements_file(tmp_path: Path) -> None:
    hashes = {"a": ("sha256:11",), "b-x": ("sha256:22", "sha256:33")}
    request = base.InstallRequest(("a==1", "B_x==2"), Sources(), hashes)
    args = base.requirement_args(tmp_path, request)
    assert args == ["--require-hashes", "-r", str(tmp_path / "reprorun-requirements.txt")]
    assert (tmp_path / "reprorun-requirements.txt").read_text("utf-8") == (
        "a==1 --hash=sha256:11\nB_x==2 --hash=sha256:22 --hash=sha256:33\n")


def test_hashed_requirements_match_names_canonically() -> None:
    text = base.hashed_requirements(["My.Pkg==1", "other==2"], {"my_pkg": ("sha256:aa",)})
    assert text == "My.Pkg==1 --hash=sha256:aa\nother==2\n"


def test_hashed_requirements_with_a_marker() -> None:
    text = base.hashed_requirements(['a==1; python_version >= "3"'], {"a": ("sha256:aa",)})
    assert text == 'a==1; python_version >= "3" --hash=sha256:aa\n'


def result(stdout: str = "", stderr: str = "", code: int = 1) -> Result:
    return Result(("pip", "install"), code, stdout, stderr)


def test_install_error_takes_pips_error_lines() -> None:
    output = ("Looking in links: /w\nProcessing ./a\n"
              "ERROR: Could not find a version that satisfies the requirement nosuch (from versions: none)\n"
              "ERROR: No matching distribution found for nosuch\n")  # fmt: skip
    error = base.install_error(["nosuch"], result(stderr=output))
    assert isinstance(error, BuildError)
    assert error.message == (
        "could not install nosuch:\n"
        "  ERROR: Could not find a version that satisfies the requirement nosuch (from versions: none)\n"
        "  ERROR: No matching distribution found for nosuch"
    )
    assert error.hint == "rerun with -v to see the installer's full output"


def test_install_error_takes_pips_parenthesised_errors_once() -> None:
    output = "ERROR(a): broken\nERROR(a): broken\n  ERROR: Exception:\n"
    error = base.install_error(["a"], result(stderr=output))
    assert error.message == "could not install a:\n  ERROR(a): broken\n  ERROR: Exception:"


def test_install_error_takes_uvs_reason_and_its_explanation() -> None:
    output = ("Resolved 3 packages\n"
              "error: Failed to prepare distributions\n"
              "  Caused by: Failed to fetch wheel: broken==1.0\n"
              "  Caused by: unsupported Wheel-Version\n"
              "not indented: dropped\n")  # fmt: skip
    error = base.install_error(["broken"], result(stderr=output))
    assert error.message == ("could not install broken:\n  error: Failed to prepare distributions\n"
                             "    Caused by: Failed to fetch wheel: broken==1.0\n"
                             "    Caused by: unsupported Wheel-Version")  # fmt: skip


def test_install_error_explanation_is_at_most_five_lines() -> None:
    output = "error: top\n" + "".join(f"  line {i}\n" for i in range(10))
    error = base.install_error(["a"], result(stderr=output))
    assert error.message.splitlines()[1:] == ["  error: top", *[f"    line {i}" for i in range(5)]]


def test_install_error_without_reason_lines_shows_the_tail() -> None:
    output = "\n".join(f"line {i}" for i in range(20))
    error = base.install_error(["a"], result(stdout=output))
    assert error.message.splitlines()[1:] == [f"  line {i}" for i in range(15, 20)]


def test_install_error_names_up_to_six_requirements() -> None:
    six = [f"p{i}" for i in range(6)]
    assert base.install_error(six, result(stderr="ERROR: x")).message.startswith(
        "could not install p0, p1, p2, p3, p4, p5:")
    seven = [f"p{i}" for i in range(7)]
    assert base.install_error(seven, result(stderr="ERROR: x")).message.startswith("could not install 7 requirements:")


def test_install_error_of_empty_output() -> None:
    assert base.install_error(["a"], result()).message == "could not install a:\n"


def test_install_error_is_rendered_as_one_error() -> None:
    rendered = base.install_error(["a"], result(stderr="ERROR: nope")).render()
    assert rendered == ("reprorun: error: could not install a:\n  ERROR: nope\n"
                        "hint: rerun with -v to see the installer's full output\n")  # fmt: skip


# --- pip: the one command builder -----------------------------------------------------------------------


def test_pip_command_quiet_with_sources() -> None:
    argv = pip.pip_command("/py", "3.11", None, "install", Sources(find_links=("/w",), no_index=True), 0)
    prefix = pip.pip_argv("/py", "3.11", None)
    assert argv == [*prefix, "install", "--no-input", "--disable-pip-version-check", "--find-links", "/w",
                    "--no-index", "--quiet"]  # fmt: skip
    assert prefix[0] == "/py"
    assert prefix[1].endswith(".whl" + os.sep + "pip")


@pytest.mark.parametrize(("verbosity", "quiet"), [(-1, True), (0, True), (1, False), (2, False)])
def test_pip_command_is_quiet_unless_verbose(verbosity: int, quiet: bool) -> None:
    argv = pip.pip_command("/py", "3.11", None, "download", Sources(), verbosity)
    assert ("--quiet" in argv) is quiet
    assert argv[2] == "download"


def test_pip_command_runs_pip_unpacked_in_the_cache(tmp_path: Path) -> None:
    argv = pip.pip_command(sys.executable, "3.11", tmp_path, "--version", Sources(), 1)
    assert argv[1].startswith(str(tmp_path))
    done = subprocess.run(argv[:3], capture_output=True, text=True, env=pip.pip_environment(), check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("pip ")


def test_pip_environment_drops_what_would_install_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV", "PIP_USER", "PYTHONDONTWRITEBYTECODE"):
        monkeypatch.setenv(name, "1")
    env = pip.pip_environment()
    assert not {"PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV", "PIP_USER", "PYTHONDONTWRITEBYTECODE"} & set(env)
    assert env["PYTHONNOUSERSITE"] == "1"


# --- venv: an env's layout, read from real files ---------------------------------------------------------


def dist_info(site: Path, folder: str, metadata: str | None) -> Path:
    path = site / folder
    path.mkdir(parents=True)
    if metadata is not None:
        (path / "METADATA").write_text(metadata, encoding="utf-8")
    return path


@pytest.fixture
def env(tmp_path: Path) -> Path:
    """An env folder with a lib64 -> lib link, as virtualenv makes on some systems."""
    root = tmp_path / "env"
    site = root / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (root / "lib64").symlink_to("lib")
    (root / "bin").mkdir()
    dist_info(site, "Alpha_Pkg-2.0.dist-info", "Metadata-Version: 2.1\nName: Alpha_Pkg\nVersion: 2.0\n\nbody\n")
    dist_info(site, "beta-1.0.dist-info", "Name: beta\nVersion: 1.0\nRequires-Dist: alpha\nRequires-Dist: gamma\n")
    dist_info(site, "broken-0.dist-info", None)
    dist_info(site, "noversion-1.dist-info", "Name: noversion\n")
    (site / "alpha_pkg").mkdir()
    return root


def test_env_python_is_in_bin() -> None:
    assert venv.env_python(Path("/e")) == Path("/e/bin/python")


def test_site_packages_counts_a_linked_folder_once(env: Path) -> None:
    assert venv.site_packages(env) == [(env / "lib" / "python3.11" / "site-packages").resolve()]


def test_site_packages_of_an_empty_folder(tmp_path: Path) -> None:
    assert venv.site_packages(tmp_path) == []


def test_site_packages_of_a_windows_layout(tmp_path: Path) -> None:
    (tmp_path / "Lib" / "site-packages").mkdir(parents=True)
    assert venv.site_packages(tmp_path) == [(tmp_path / "Lib" / "site-packages").resolve()]


def test_dist_infos_each_once_sorted(env: Path) -> None:
    names = [p.name for p in venv.dist_infos(env)]
    assert names == ["Alpha_Pkg-2.0.dist-info", "beta-1.0.dist-info", "broken-0.dist-info", "noversion-1.dist-info"]


def test_installed_by_canonical_name(env: Path) -> None:
    found = venv.installed(env)
    assert set(found) == {"alpha-pkg", "beta", "noversion"}
    assert found["alpha-pkg"][:2] == ("Alpha_Pkg", "2.0")
    assert found["alpha-pkg"][2].name == "Alpha_Pkg-2.0.dist-info"
    assert found["noversion"][1] == "?"


def test_metadata_fields_keep_every_value_and_stop_at_the_body(env: Path) -> None:
    site = venv.site_packages(env)[0]
    fields = venv.metadata_fields(site / "beta-1.0.dist-info")
    assert fields == {"name": ["beta"], "version": ["1.0"], "requires-dist": ["alpha", "gamma"]}
    alpha = venv.metadata_fields(site / "Alpha_Pkg-2.0.dist-info")
    assert alpha == {"metadata-version": ["2.1"], "name": ["Alpha_Pkg"], "version": ["2.0"]}


def test_metadata_fields_skip_continuation_lines(tmp_path: Path) -> None:
    folder = dist_info(tmp_path, "x-1.dist-info", "Name: x\nLicense: MIT\n  and more: text\nVersion: 1\n")
    assert venv.metadata_fields(folder) == {"name": ["x"], "license": ["MIT"], "version": ["1"]}


def test_metadata_fields_of_a_missing_or_undecodable_file(tmp_path: Path) -> None:
    assert venv.metadata_fields(tmp_path / "none.dist-info") == {}
    folder = dist_info(tmp_path, "y-1.dist-info", None)
    (folder / "METADATA").write_bytes(b"Name: y\xff\nVersion: 1\n")
    assert venv.metadata_fields(folder) == {"name": ["y\ufffd"], "version": ["1"]}
