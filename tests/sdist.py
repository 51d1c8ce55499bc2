"""Build a tiny source-only package (an sdist) whose build needs nothing from any index.

Its PEP 517 backend lives inside the sdist (`backend-path = ["."]`, no build requirements), so
pip and uv build it offline. It writes a pure-Python wheel with `zipfile`, after sleeping
`delay` seconds: a build long enough to watch.
"""

from __future__ import annotations

import io
import tarfile
import textwrap
from pathlib import Path

BACKEND = '''
"""A PEP 517 backend that writes one pure-Python wheel (reprorun's tests)."""
import base64, hashlib, os, time, zipfile

NAME, VERSION, DELAY = {name!r}, {version!r}, {delay!r}
DIST = f"{{NAME}}-{{VERSION}}.dist-info"


def get_requires_for_build_wheel(config_settings=None):
    return []


def _files():
    return {{
        f"{{NAME}}/__init__.py": f"__version__ = {{VERSION!r}}\\nBUILT_FROM_SOURCE = True\\n",
        f"{{DIST}}/METADATA": f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n\\n",
        f"{{DIST}}/WHEEL": (
            "Wheel-Version: 1.0\\nGenerator: reprorun-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        ),
    }}


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    os.makedirs(os.path.join(metadata_directory, DIST), exist_ok=True)
    for path, text in _files().items():
        if path.startswith(DIST):
            with open(os.path.join(metadata_directory, path), "w") as handle:
                handle.write(text)
    return DIST


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    time.sleep(DELAY)
    name = f"{{NAME}}-{{VERSION}}-py3-none-any.whl"
    files = {{p: t.encode() for p, t in _files().items()}}
    record = "".join(
        f"{{p}},sha256={{base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()}},{{len(d)}}\\n"
        for p, d in files.items()
    ) + f"{{DIST}}/RECORD,,\\n"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr(f"{{DIST}}/RECORD", record)
    return name
'''


def build_sdist(dest: Path, name: str = "slowpkg", version: str = "1.0", delay: float = 0.0) -> Path:
    """Write `name-version.tar.gz` into dest and return its path."""
    root = f"{name}-{version}"
    members = {
        f"{root}/pyproject.toml": textwrap.dedent(
            """\
            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]
            """
        ),
        f"{root}/backend.py": BACKEND.format(name=name, version=version, delay=delay),
        f"{root}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{root}/{name}/__init__.py": f"__version__ = {version!r}\n",
    }
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / f"{root}.tar.gz"
    with tarfile.open(target, "w:gz") as archive:
        for path, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = 1577836800
            archive.addfile(info, io.BytesIO(data))
    return target
