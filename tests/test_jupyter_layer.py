"""The kernel env layered on a script's env: its own key, the same versions, shared files, and a
clear error naming the pin when the kernel packages cannot be added around it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jupyter_support import notebook, read, text
from reprorun.jupyter.layer import conflicting_pins, pins_of
from wheelhouse import Spec, build_wheel


def _envs(cache: Path) -> dict[str, Path]:
    """The published envs of a cache, by whether they hold ipykernel ("kernel") or not ("base")."""
    found = {}
    for pointer in (cache / "keys").iterdir():
        env = cache / "envs" / pointer.read_text().strip()
        found["kernel" if "ipykernel" in pins_of(env) else "base"] = env
    return found


@pytest.mark.slow
def test_the_kernel_env_keeps_every_version_of_the_script_env_and_shares_its_files(nb_run, tmp_path):
    script = tmp_path / "s.py"
    block = '# /// script\n# dependencies = ["gamma", "alpha"]\n# ///\n'
    script.write_text(block + "import alpha\nprint(alpha.__version__)\n")
    cache = tmp_path / "cache"
    done = nb_run("--output", tmp_path / "o.ipynb", script, cache=cache)
    assert done.returncode == 0, done.stderr
    assert text(read(tmp_path / "o.ipynb")["cells"][0]) == "2.0\n"
    envs = _envs(cache)
    base, kernel = pins_of(envs["base"]), pins_of(envs["kernel"])
    assert base == {"alpha": "2.0", "beta": "1.0", "gamma": "1.0", "epsilon": "1.0"}
    assert {name: kernel[name] for name in base} == base
    assert {"ipykernel", "nbclient", "nbformat"} <= set(kernel)
    key_of = {kind: json.loads((env / "reprorun-key.json").read_text())["requirements"] for kind, env in envs.items()}
    assert "alpha==2.0" in key_of["kernel"] and "ipykernel" in key_of["kernel"]
    assert key_of["base"] == ["alpha", "gamma"]  # the script's own env is what a plain run uses
    shared = [os.stat(next(env.glob("lib/python*/site-packages/alpha/__init__.py"))) for env in envs.values()]
    assert shared[0].st_ino == shared[1].st_ino  # one file on disk for both envs
    # The plain run still uses the script's env, unchanged, and a second execution builds nothing.
    assert nb_run(script, cache=cache).stdout == "2.0\n"
    again = nb_run("--output", tmp_path / "o2.ipynb", script, cache=cache)
    assert again.returncode == 0 and "creating an environment" not in again.stderr
    assert len(list((cache / "envs").iterdir())) == 2


@pytest.mark.slow
@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_a_pin_the_kernel_packages_cannot_live_with_is_named(nb_run, tmp_path, installer):
    old = tmp_path / "old"
    build_wheel(Spec("traitlets", "0.1", "traitlets"), old)
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(("code", '# /// script\n# dependencies = ["traitlets==0.1"]\n# ///\n', [])))
    done = nb_run("--installer", installer, "--find-links", old, "--output", tmp_path / "o.ipynb", path,
                  cache=tmp_path / "cache")  # fmt: skip
    assert done.returncode == 1
    assert "cannot be added to its environment without changing its pin traitlets==0.1" in done.stderr
    assert not (tmp_path / "o.ipynb").exists()


def test_pins_of_reads_dist_info_names_and_leaves_url_installs_to_the_block(tmp_path):
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    for name in ("Foo_Bar-1.0.dist-info", "zope.interface-6.0.dist-info", "local_pkg-0.1.dist-info", "pkg"):
        (site / name).mkdir(parents=True)
    (site / "local_pkg-0.1.dist-info" / "direct_url.json").write_text("{}")
    assert pins_of(tmp_path) == {"foo-bar": "1.0", "zope-interface": "6.0"}


@pytest.mark.parametrize(
    "message",
    [
        "ERROR: Cannot install ipykernel==7.4.0 and traitlets==0.1 because these package versions conflict",
        "Because ipykernel==7.4.0 depends on traitlets>=5.4.0 and you require traitlets==0.1, we can conclude",
        "The user requested Traitlets == 0.1",
    ],
)
def test_the_conflicting_pin_is_found_in_pip_and_uv_messages(message):
    pins = {"traitlets": "0.1", "tornado": "6.4", "trait": "0.1"}
    assert conflicting_pins(message, pins) == ["traitlets==0.1"]


def test_no_pin_named_when_the_failure_is_something_else():
    assert conflicting_pins("ERROR: No matching distribution found for ipykernel", {"alpha": "1.0"}) == []


def test_offline_without_the_kernel_env_says_how_to_build_it(nb_run, tmp_path):
    script = tmp_path / "s.py"
    script.write_text('# /// script\n# dependencies = ["alpha"]\n# ///\n')
    cache = tmp_path / "cache"
    assert nb_run("sync", script, cache=cache).returncode == 0  # the script's own env is there
    done = nb_run("--offline", "--output", tmp_path / "o.ipynb", script, cache=cache)
    assert done.returncode == 1
    assert "its kernel environment (with ipykernel, nbclient, nbformat) is not built" in done.stderr
    assert f"hint: build it once where the network is reachable: reprorun --output OUT.ipynb {script}" in done.stderr
    done = nb_run("--offline", "kernel", "install", script, cache=cache)
    assert done.returncode == 1 and f"reprorun kernel install {script}" in done.stderr
