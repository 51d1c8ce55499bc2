"""`reprorun kernel install|list|remove`: a kernelspec that jupyter_client finds, and a real kernel
started from it that imports the script's pinned package from the script's env."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from reprorun.jupyter import kernelspec

SCRIPT = '# /// script\n# dependencies = ["alpha==1.0", "beta"]\n# ///\nimport alpha\n'


def _execute(manager_name: str, code: str, kernel_dirs: list[str] | None = None) -> tuple[str, list[str]]:
    """Start the named kernel through jupyter_client, run code, return (stdout, errors)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    specs = KernelSpecManager(kernel_dirs=kernel_dirs) if kernel_dirs else KernelSpecManager()
    manager = KernelManager(kernel_name=manager_name, kernel_spec_manager=specs)
    manager.start_kernel(extra_arguments=["--IPKernelApp.log_level=ERROR"])
    client = manager.client()
    client.start_channels()
    streams: list[str] = []
    errors: list[str] = []

    def hook(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            streams.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            errors.append(f"{message['content']['ename']}: {message['content']['evalue']}")

    try:
        client.wait_for_ready(timeout=60)
        client.execute_interactive(code, output_hook=hook, timeout=60)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return "".join(streams), errors


@pytest.mark.slow
def test_an_installed_kernel_is_found_by_jupyter_client_and_runs_in_the_script_env(nb_run, tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager

    script = tmp_path / "analysis.py"
    script.write_text(SCRIPT)
    done = nb_run("kernel", "install", script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    name = kernelspec.default_name(str(script))
    folder = Path(os.environ["XDG_DATA_HOME"]) / "jupyter" / "kernels" / name
    assert done.stdout == f"{folder}\n"
    found = KernelSpecManager().find_kernel_specs()
    assert Path(found[name]) == folder
    spec = KernelSpecManager().get_kernel_spec(name)
    assert spec.display_name == "analysis.py (reprorun)" and spec.language == "python"
    env = Path(spec.metadata["reprorun"]["env"])
    assert spec.argv[0] == str(env / "bin" / "python")
    code = "import alpha, beta, sys, os\nprint(alpha.__version__, sys.prefix, os.environ['VIRTUAL_ENV'])"
    out, errors = _execute(name, code)
    assert errors == []
    version, prefix, virtual_env = out.split()
    assert version == "1.0" and prefix == virtual_env == str(env)
    listed = nb_run("kernel", "list")
    assert listed.stdout == f"{name}\t{script}\n"
    removed = nb_run("kernel", "remove", name)
    assert removed.returncode == 0, removed.stderr
    assert not folder.exists() and name not in KernelSpecManager().find_kernel_specs()


@pytest.mark.slow
def test_name_display_name_and_prefix(nb_run, tmp_path):
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    prefix = tmp_path / "prefix"
    done = nb_run("kernel", "install", script, "--name", "My.Kernel", "--display-name", "Mine", "--prefix", prefix)
    assert done.returncode == 0, done.stderr
    kernel_json = prefix / "share" / "jupyter" / "kernels" / "my.kernel" / "kernel.json"
    data = json.loads(kernel_json.read_text())
    assert data["display_name"] == "Mine" and data["metadata"]["reprorun"]["script"] == str(script)
    out, errors = _execute("my.kernel", "import alpha; print(alpha.__version__)", [str(kernel_json.parent.parent)])
    assert (out, errors) == ("1.0\n", [])
    assert nb_run("kernel", "list").stdout == ""  # the user's directory has none
    assert nb_run("kernel", "list", "--prefix", prefix).stdout.startswith("my.kernel\t")
    # Installing again replaces the kernelspec in place.
    assert nb_run("kernel", "install", script, "--name", "my.kernel", "--prefix", prefix).returncode == 0
    assert json.loads(kernel_json.read_text())["display_name"] == "s.py (reprorun)"


def test_remove_leaves_other_kernels_alone(run_reprorun, tmp_path):
    other = Path(os.environ["XDG_DATA_HOME"]) / "jupyter" / "kernels" / "python3"
    other.mkdir(parents=True)
    spec = {"argv": [sys.executable], "display_name": "P", "language": "python"}
    (other / "kernel.json").write_text(json.dumps(spec))
    done = run_reprorun("kernel", "remove", "python3")
    assert done.returncode == 2 and "was not installed by reprorun; leaving it alone" in done.stderr
    assert other.exists()
    done = run_reprorun("kernel", "remove", "nope")
    assert done.returncode == 2 and "no kernel named 'nope'" in done.stderr
    assert run_reprorun("kernel", "list").stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["install"], "kernel install needs a script"),
        (["remove"], "kernel remove needs a kernel"),
        (["list", "x"], "kernel list takes no argument"),
        (["install", "s.py", "--name", "bad name"], "kernel name 'bad name'"),
        (["install", "-"], "not standard input"),
        (["install", "missing.py"], "missing.py"),
    ],
)
def test_kernel_usage_errors(run_reprorun, tmp_path, cache_dir, args, message):
    (tmp_path / "s.py").write_text(SCRIPT)
    done = run_reprorun("kernel", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("reprorun: error: ") and message in done.stderr
    assert not (cache_dir / "envs").exists()


def test_default_names_and_data_directory(tmp_path, monkeypatch):
    assert kernelspec.default_name("/a/My Analysis.py").startswith("reprorun-my-analysis-")
    assert kernelspec.default_name("/a/x.py") != kernelspec.default_name("/b/x.py")
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path))
    assert kernelspec.kernels_dir(None) == tmp_path / "kernels"
    assert kernelspec.kernels_dir("p") == Path("p").absolute() / "share" / "jupyter" / "kernels"
    monkeypatch.delenv("JUPYTER_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "x"))
    from jupyter_core.paths import jupyter_data_dir

    assert kernelspec.user_data_dir() == Path(jupyter_data_dir())  # the place Jupyter itself looks
