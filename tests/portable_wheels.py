"""A wheelhouse of tiny platform wheels for the portability tests (built with tests/wheelhouse.py).

- `pure` 1.0: one pure wheel;
- `native` 2.0: wheels for linux-x86_64, macos-arm64 and windows-x86_64, not linux-aarch64;
  `native` 1.0: wheels for all four (so linux-aarch64 pins 1.0 and the others 2.0);
- `onlylinux` 1.0: Linux wheels only; 0.9: a Windows wheel only (the "nearest version");
- `app` 1.0: pure, needs `pure`, `native`, and `winshim` on Windows only;
- `winshim` 1.0: a Windows wheel only (the platform-only dependency).
"""

from __future__ import annotations

import sys
from pathlib import Path

from wheelhouse import Spec, build_wheel

CP = f"cp{sys.version_info.major}{sys.version_info.minor}"
PY = f"{sys.version_info.major}.{sys.version_info.minor}"
LINUX_X86, LINUX_ARM = "manylinux_2_17_x86_64", "manylinux_2_17_aarch64"
MAC_ARM, WINDOWS = "macosx_11_0_arm64", "win_amd64"


def specs() -> list[Spec]:
    """Every wheel of the portability wheelhouse."""
    found = [Spec("pure", "1.0", "pure")]
    found += [Spec("native", "2.0", "native", tag=f"{CP}-{CP}-{p}") for p in (LINUX_X86, MAC_ARM, WINDOWS)]
    found += [Spec("native", "1.0", "native", tag=f"{CP}-{CP}-{p}") for p in (LINUX_X86, LINUX_ARM, MAC_ARM, WINDOWS)]
    found += [Spec("onlylinux", "1.0", "onlylinux", tag=f"py3-none-{p}") for p in (LINUX_X86, LINUX_ARM)]
    found.append(Spec("onlylinux", "0.9", "onlylinux", tag=f"py3-none-{WINDOWS}"))
    found.append(Spec("app", "1.0", "app", requires=("pure", 'winshim; sys_platform == "win32"', "native"),
                      extra_code="\n\ndef main() -> None:\n    import native\n    print('app', native.__version__)\n"))
    found.append(Spec("winshim", "1.0", "winshim", tag=f"py3-none-{WINDOWS}"))
    return found


def build(dest: Path) -> Path:
    """Write the wheelhouse into dest; return dest."""
    for spec in specs():
        build_wheel(spec, dest)
    return dest
