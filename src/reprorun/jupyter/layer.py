"""The kernel environment: the script's env with the Jupyter kernel packages layered on it.

It is an environment of its own (its own key, built once, published like any other) whose
requirements are the block's, every distribution of the script's env pinned to the version that
env holds, and the kernel packages. So no version the script runs with changes: the installer
either adds the kernel packages around the pins or fails, and then the error names the pin in
the way. Its files are shared with the script's env where the installer can: uv links both from
its cache, pip's builds go through reprorun's content store (hard links). A block with hashes
is verified when the script's env is built; the kernel env reinstalls the same versions without
`--require-hashes`, since the kernel packages carry no hashes in the block.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Literal

from reprorun.envs import build as envs
from reprorun.envs.cache import Cache
from reprorun.errors import BuildError, OfflineError
from reprorun.options import Options

log = logging.getLogger("reprorun")

Purpose = Literal["execute", "kernel"]

# What each use needs: nbclient and nbformat run inside the env to execute a notebook (so
# reprorun itself stays small); an IDE's kernel needs only ipykernel.
PACKAGES: dict[Purpose, tuple[str, ...]] = {
    "execute": ("ipykernel", "nbclient", "nbformat"),
    "kernel": ("ipykernel",),
}
_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)\.dist-info$")


def pins_of(env: Path) -> dict[str, str]:
    """`name -> version` of every distribution in an env installed from an index or wheel (one
    installed from a URL or path, with a `direct_url.json`, is left to the block's requirement)."""
    found: dict[str, str] = {}
    for pattern in ("lib*/python*/site-packages", "Lib/site-packages"):
        for folder in sorted({p.resolve() for p in env.glob(pattern)}):
            for entry in sorted(os.listdir(folder)):
                match = _DIST_INFO.match(entry)
                if match and not (folder / entry / "direct_url.json").exists():
                    name = re.sub(r"[-_.]+", "-", match.group("name")).lower()
                    found[name] = match.group("version")
    return found


def requirements(spec: envs.Spec, pins: dict[str, str], purpose: Purpose) -> tuple[str, ...]:
    """The kernel env's requirements: the block's, the script env's exact versions, the kernel's."""
    return (*spec.requirements, *(f"{name}=={version}" for name, version in sorted(pins.items())), *PACKAGES[purpose])


def kernel_env(cache: Cache, spec: envs.Spec, base: envs.Env, options: Options, label: str,
               purpose: Purpose) -> envs.Env:  # fmt: skip
    """The published kernel env of a script's env; built (once) when there is none."""
    pins = pins_of(base.path)
    derived = envs.Spec(requirements(spec, pins, purpose), spec.interpreter, spec.sources, {})
    if spec.hashes:
        log.debug("the kernel env of %s is installed without --require-hashes", label)
    try:
        return envs.ensure(cache, derived, options, f"{label} (with {', '.join(PACKAGES[purpose])})")
    except OfflineError:
        again = f"reprorun --output OUT.ipynb {label}" if purpose == "execute" else f"reprorun kernel install {label}"
        raise OfflineError(f"{label}: its kernel environment (with {', '.join(PACKAGES[purpose])}) is not built, "
                           "and --offline forbids building it",
                           hint=f"build it once where the network is reachable: {again}") from None  # fmt: skip
    except BuildError as exc:
        named = conflicting_pins(exc.message, pins)
        if not named:
            raise
        raise BuildError(
            f"{label}: the Jupyter kernel packages ({', '.join(PACKAGES[purpose])}) cannot be added to its "
            f"environment without changing its pin {' and '.join(named)}:\n{_reasons(exc.message)}",
            hint="relax or update that pin in the block (reprorun --freeze --upgrade-package NAME), then run again",
        ) from None


def conflicting_pins(message: str, pins: dict[str, str]) -> list[str]:
    """The pins an installer's resolution error names (pip: `... and x==1 because`, uv:
    `you require x==1`), canonical `name==version`, in the order of the pins."""
    text = re.sub(r"[-_.]+", "-", message.lower())
    named = []
    for name, version in sorted(pins.items()):
        pattern = rf"(?<![a-z0-9-]){re.escape(name)}\s*==\s*{re.escape(re.sub(r'[-_.]+', '-', version.lower()))}"
        if re.search(pattern, text):
            named.append(f"{name}=={version}")
    return named


def _reasons(message: str) -> str:
    """The installer's own lines of a build error (after its first line, which lists requirements)."""
    return message.partition("\n")[2] or message
