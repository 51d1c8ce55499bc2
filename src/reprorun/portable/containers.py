"""Dockerfile and Apptainer definition: a Python base image, a venv with exactly the pins, the script.

Both install the same way: the pins (with `--hash` options when hashes are recorded) are written
to a requirements file inside the image and installed with pip into `/opt/venv`, with
`--require-hashes` when there are hashes. The base image is `python:X.Y-slim`, X.Y the Python
the block was frozen for (of its Linux target when it has several). The script is copied from
the folder the image is built in, and runs as the entry point with the image's arguments.
"""

from __future__ import annotations

import re
import shlex

from packaging.requirements import Requirement

from reprorun.portable.exported import Exported, requirement_lines

VENV = "/opt/venv"
APP = "/app"
REQUIREMENTS = "/tmp/requirements.txt"  # noqa: S108 - inside the image being built


def install_commands(exported: Exported) -> list[str]:
    """The shell commands that create the venv and install exactly the pins into it."""
    # Markers in double quotes, so that each line needs no escaping inside shell single quotes.
    lines = [_double_quoted(line) for line in requirement_lines(exported)]
    write = "printf '%s\\n' " + " ".join(shlex.quote(line) for line in lines) + f" > {REQUIREMENTS}"
    hashes = " --require-hashes" if exported.hashes else ""
    commands = [f"python -m venv {VENV}"]
    if lines:
        commands += [write, f"{VENV}/bin/pip install --no-cache-dir --disable-pip-version-check{hashes} "
                            f"-r {REQUIREMENTS}", f"rm {REQUIREMENTS}"]  # fmt: skip
    return commands


def _tag(stem: str) -> str:
    """An image name Docker accepts: lower case, no spaces."""
    return re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._") or "script"


def base_image(exported: Exported) -> str:
    """`python:3.11-slim` for a block frozen for CPython 3.11."""
    return f"python:{exported.python}-slim"


def dockerfile(exported: Exported) -> str:
    """A Dockerfile; build it in the script's folder: `docker build -f Dockerfile .`."""
    script = exported.name
    run = " \\\n    && ".join(install_commands(exported))
    return (
        f"# Exported by reprorun from {script}, frozen for {exported.frozen_for}.\n"
        f"# Build in the folder of {script}: docker build -t {_tag(exported.stem)} -f Dockerfile .\n"
        f"FROM {base_image(exported)}\n"
        f"ENV VIRTUAL_ENV={VENV} PATH={VENV}/bin:$PATH PYTHONUNBUFFERED=1\n"
        f"RUN {run}\n"
        f"WORKDIR {APP}\n"
        f"COPY {script} {APP}/{script}\n"
        f'ENTRYPOINT ["python", "{APP}/{script}"]\n'
    )


def apptainer(exported: Exported) -> str:
    """An Apptainer (Singularity) definition; build it in the script's folder."""
    script = exported.name
    post = "".join(f"    {command}\n" for command in install_commands(exported))
    return (
        f"# Exported by reprorun from {script}, frozen for {exported.frozen_for}.\n"
        f"# Build in the folder of {script}: apptainer build {exported.stem}.sif {exported.stem}.def\n"
        "Bootstrap: docker\n"
        f"From: {base_image(exported)}\n"
        "\n%files\n"
        f"    {script} {APP}/{script}\n"
        "\n%environment\n"
        f"    export VIRTUAL_ENV={VENV}\n"
        f"    export PATH={VENV}/bin:$PATH\n"
        "\n%post\n" + post + "\n%runscript\n"
        f'    exec {VENV}/bin/python {APP}/{script} "$@"\n'
    )


def _double_quoted(line: str) -> str:
    requirement, _, hashes = line.partition(" --hash=")
    text = str(Requirement(requirement))
    return f"{text} --hash={hashes}" if hashes else text
