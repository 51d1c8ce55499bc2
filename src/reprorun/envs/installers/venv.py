"""The layout of a built environment: its interpreter, its site-packages, what is installed in it.

Read-only: nothing here creates or changes an env.
"""

from __future__ import annotations

from pathlib import Path

from reprorun.envs import layout


def env_python(env_dir: Path) -> Path:
    """The interpreter inside an environment."""
    return Path(layout.env_python(str(env_dir)))


def site_packages(env: Path) -> list[Path]:
    """The env's site-packages folders (lib64 is often a link to lib: each real folder once)."""
    patterns = ("lib*/*/site-packages", "Lib/site-packages")
    return sorted({p.resolve() for pattern in patterns for p in env.glob(pattern) if p.is_dir()})


def dist_infos(env: Path) -> list[Path]:
    """Every `*.dist-info` folder of the env's site-packages, each once."""
    return sorted({p.resolve() for folder in site_packages(env) for p in folder.glob("*.dist-info")})


def installed(env: Path) -> dict[str, tuple[str, str, Path]]:
    """The distributions in an env's site-packages: canonical name -> (name, version, dist-info)."""
    from packaging.utils import canonicalize_name

    found: dict[str, tuple[str, str, Path]] = {}
    for folder in dist_infos(env):
        fields = metadata_fields(folder)
        if "name" in fields:
            found[canonicalize_name(fields["name"][0])] = (fields["name"][0], fields.get("version", ["?"])[0], folder)
    return found


def metadata_fields(dist_info: Path) -> dict[str, list[str]]:
    """The header fields of a dist-info's METADATA, lower-cased names, every value kept."""
    fields: dict[str, list[str]] = {}
    try:
        text = (dist_info / "METADATA").read_text("utf-8", errors="replace")
    except OSError:
        return fields
    for line in text.splitlines():
        if not line.strip():
            break  # the body (long description) starts after the first blank line
        name, sep, value = line.partition(":")
        if sep and not line[0].isspace():
            fields.setdefault(name.strip().lower(), []).append(value.strip())
    return fields
