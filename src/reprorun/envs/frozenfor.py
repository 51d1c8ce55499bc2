"""Whether pins frozen for one interpreter and platform (`frozen-for`) fit the one running."""

from __future__ import annotations

import re

_TAG = re.compile(r"^(?P<impl>[^-]+)-(?P<version>[^-]+)-(?P<platform>.+)$")
_TARGETS = re.compile(r"^cp3\d+-[a-z]+-[a-z0-9_]+(?:\s*,\s*cp3\d+-[a-z]+-[a-z0-9_]+)*$")


def frozen_for_mismatch(frozen_for: str | None, tag: str) -> str | None:
    """A warning when pins frozen for one interpreter/platform are used on another, else None.

    Implementation, `major.minor` and the platform's OS and machine must agree; a different patch
    release or glibc/macOS version does not change which wheels a pin names, so it is not worth a
    warning.
    """
    if not frozen_for or frozen_for == tag:
        return None
    if _TARGETS.match(frozen_for):  # a list of targets (`--freeze --for`, docs/portability.md)
        return _targets_mismatch(frozen_for, tag)
    frozen, running = _TAG.match(frozen_for), _TAG.match(tag)
    if frozen and running and (
        frozen["impl"] == running["impl"]
        and frozen["version"].split(".")[:2] == running["version"].split(".")[:2]
        and _platform_family(frozen["platform"]) == _platform_family(running["platform"])
    ):
        return None
    return (
        f"the pins were frozen for {frozen_for}, but this is {tag}; they may not install "
        "here, or may miss packages this platform needs (reprorun --freeze --upgrade re-resolves)"
    )


def _targets_mismatch(frozen_for: str, tag: str) -> str | None:
    """A warning when this interpreter is none of the targets `frozen-for` lists ('cp311-linux-x86_64, ...')."""
    running = _TAG.match(tag)
    if running:
        family = _platform_family(running["platform"]).replace("amd64", "x86_64").replace("win_", "windows_")
        system, _, machine = family.replace("macosx_", "macos_").partition("_")
        here = f"cp{''.join(running['version'].split('.')[:2])}-{system}-{machine}"
        if running["impl"] == "cpython" and here in [t.strip() for t in frozen_for.split(",")]:
            return None
    return (f"the pins were frozen for {frozen_for}, but this is {tag}; they may not install here "
            "(reprorun --freeze --for TARGET adds this platform)")  # fmt: skip


def _platform_family(platform: str) -> str:
    """`manylinux_2_36_x86_64` -> `linux_x86_64`, `macosx_14_0_arm64` -> `macosx_arm64`."""
    family = re.sub(r"^(many|musl)linux_\d+_\d+_", "linux_", platform)
    return re.sub(r"^macosx_\d+_\d+_", "macosx_", family)
