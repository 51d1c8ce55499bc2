"""`reprorun kernel install|list|remove`: a script's env as a Jupyter kernel, for JupyterLab and VS Code."""

from __future__ import annotations

import argparse
import logging
import sys

from reprorun.commands import prepare
from reprorun.errors import UsageError
from reprorun.jupyter import kernelspec, layer
from reprorun.options import Options

log = logging.getLogger("reprorun")


def describe(name: str) -> str:
    """One line for `--help`."""
    return "Register a script's environment (with ipykernel layered on it) as a Jupyter kernel; list or remove them."


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `kernel install SCRIPT`, `kernel list` and `kernel remove NAME`.

    One parser, not subparsers: reprorun's own options (`--python`, `--find-links`, ...) may then
    stand anywhere, `reprorun kernel install --python 3.12 analysis.py` included.
    """
    parser.usage = "reprorun kernel install SCRIPT [--name NAME] [--user|--prefix DIR] | list | remove NAME"
    parser.add_argument("action", choices=("install", "list", "remove"),
                        help="install: write a kernelspec that starts SCRIPT's env with ipykernel; "
                             "list: the kernels reprorun installed; remove: remove one")  # fmt: skip
    parser.add_argument("target", nargs="?", metavar="SCRIPT|NAME", help="the script (install) or kernel (remove)")
    parser.add_argument("--name", help="install: the kernel's name (default: reprorun-<stem>-<hash of its path>)")
    parser.add_argument("--display-name", help="install: the name Jupyter shows (default: '<script> (reprorun)')")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="the user's Jupyter data directory (the default)")
    where.add_argument("--prefix", metavar="DIR", help="DIR/share/jupyter/kernels (e.g. another env's sys.prefix)")


def run(name: str, ns: argparse.Namespace, options: Options) -> int:
    """Do the action; kernel paths and listings go to stdout, progress to stderr."""
    wanted = {"install": "a script: reprorun kernel install SCRIPT", "remove": "a kernel: reprorun kernel remove NAME"}
    if ns.action in wanted and not ns.target:
        raise UsageError(f"kernel {ns.action} needs {wanted[ns.action]}")
    if ns.action == "list" and ns.target:
        raise UsageError(f"kernel list takes no argument ({ns.target})")
    if ns.action == "install":
        return _install(ns, options)
    if ns.action == "list":
        for found in kernelspec.installed(ns.prefix):
            state = "" if found.env_exists else "  (env removed: run kernel install again)"
            sys.stdout.write(f"{found.name}\t{found.script}{state}\n")
        return 0
    folder = kernelspec.remove(ns.target, ns.prefix)
    log.info("removed %s", folder)
    return 0


def _install(ns: argparse.Namespace, options: Options) -> int:
    path = ns.target
    if path == "-":
        raise UsageError("kernel install needs a script file, not standard input")
    kernel_name = kernelspec.check_name(ns.name or kernelspec.default_name(path))
    found = prepare(path, options)
    cache, base = found.cache, found.env
    env = layer.kernel_env(cache, found.spec, base, options, path, "kernel")
    for build in (base.path.name, env.path.name):
        cache.touch(build)
        cache.remember_script(build, path)
    content = kernelspec.spec(path, env.path, env.key)
    if ns.display_name:
        content["display_name"] = ns.display_name
    folder = kernelspec.kernels_dir(ns.prefix) / kernel_name
    kernelspec.write(folder, content)
    log.info("installed kernel %r (%s) in %s", kernel_name, content["display_name"], folder)
    sys.stdout.write(f"{folder}\n")
    return 0
