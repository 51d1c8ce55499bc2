"""Build a folder of tiny, correct pure-Python wheels with `zipfile`, for offline install tests."""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

# A fixed timestamp keeps every wheel byte-for-byte reproducible.
_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Spec:
    """What one wheel holds: its distribution, module, dependencies and extras."""

    name: str  # the project name as written in METADATA
    version: str
    module: str
    requires: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    console_scripts: dict[str, str] = field(default_factory=dict)
    extra_code: str = ""
    extra_files: tuple[tuple[str, str], ...] = ()  # (path in the wheel, text)
    # A RECORD whose digests do not match the files, and an unsupported Wheel-Version: neither
    # pip (26.x) nor uv (0.13) verify RECORD digests on install, but both refuse a wheel of a
    # major Wheel-Version they do not know, so the wheel fails to install with either.
    broken: bool = False
    tag: str = "py3-none-any"  # a platform tag (cp311-cp311-win_amd64) makes a platform wheel


SPECS: tuple[Spec, ...] = (
    Spec("alpha", "1.0", "alpha"),
    Spec("alpha", "2.0", "alpha"),
    Spec("beta", "1.0", "beta", requires=("alpha>=1",)),
    Spec(
        "gamma",
        "1.0",
        "gamma",
        requires=(
            "beta",
            'delta; python_version < "3"',  # never applies
            'epsilon; sys_platform != "nonexistent-os"',  # always applies
        ),
    ),
    Spec("delta", "1.0", "delta"),
    Spec("epsilon", "1.0", "epsilon"),
    Spec("Foo_Bar", "1.0", "foo_bar"),
    Spec("withextra", "1.0", "withextra", requires=('delta; extra == "fancy"',), extras=("fancy",)),
    Spec(
        "toolcli",
        "1.0",
        "toolcli",
        console_scripts={"toolcli": "toolcli:main"},
        extra_code='\n\ndef main() -> None:\n    print("toolcli ok")\n',
    ),
    Spec("broken", "1.0", "broken", broken=True),
)


def wheel_name(spec: Spec) -> str:
    """The wheel's file name: the escaped, lower-cased distribution name (PEP 491)."""
    return f"{_escaped(spec.name)}-{spec.version}-{spec.tag}.whl"


def build_wheel(spec: Spec, dest: Path) -> Path:
    """Write one wheel into `dest` and return its path."""
    dist_info = f"{_escaped(spec.name)}-{spec.version}.dist-info"
    files: dict[str, bytes] = {
        f"{spec.module}/__init__.py": (
            f'"""The {spec.name} test package."""\n\n__version__ = "{spec.version}"\n'
            + spec.extra_code
        ).encode(),
        f"{dist_info}/METADATA": _metadata(spec).encode(),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: {'9.0' if spec.broken else '1.0'}\n"
            "Generator: reprorun-tests\n"
            f"Root-Is-Purelib: {'true' if spec.tag.endswith('-none-any') else 'false'}\n"
            f"Tag: {spec.tag}\n"
        ).encode(),
    }
    for extra_path, text in spec.extra_files:
        files[extra_path] = text.encode()
    if spec.console_scripts:
        lines = "".join(f"{k} = {v}\n" for k, v in spec.console_scripts.items())
        files[f"{dist_info}/entry_points.txt"] = f"[console_scripts]\n{lines}".encode()
    record_path = f"{dist_info}/RECORD"
    record = []
    for path, data in files.items():
        digest = _digest(b"tampered" + data if spec.broken else data)
        record.append(f"{path},sha256={digest},{len(data)}\n")
    record.append(f"{record_path},,\n")
    files[record_path] = "".join(record).encode()
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / wheel_name(spec)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return target


def build_wheelhouse(dest: Path) -> dict[str, Path]:
    """Write every test wheel into `dest`; map "name-version" (normalized) to its path."""
    built = {}
    for spec in SPECS:
        key = f"{_normalized(spec.name)}-{spec.version}"
        built[key] = build_wheel(spec, dest)
    return built


def _metadata(spec: Spec) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {spec.name}", f"Version: {spec.version}"]
    lines.append(f"Summary: The {spec.name} test package")
    lines += [f"Provides-Extra: {extra}" for extra in spec.extras]
    lines += [f"Requires-Dist: {req}" for req in spec.requires]
    return "\n".join(lines) + "\n\n"


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _escaped(name: str) -> str:
    return _normalized(name).replace("-", "_")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
