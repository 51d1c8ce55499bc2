"""The key of an env without requirements, computed with the standard library alone (the first
run's lean build, launch/firstrun.py).

keys.py computes every key from a build Spec, behind `packaging`, `dataclasses` and `json` (more
to import than the whole lean build costs). For the one case the lean build handles (no
requirements, no hashes, no `exclude-newer`, package sources from pip's configuration alone) this
module writes the same key document: the interpreter as the cache describes it
(`interpreters/*.json`, written by envs/interpreters.py), the sources as `sources_for` derives
them from pip's configuration, and JSON as `json.dumps` writes it. It answers None at the first
doubt. tests/test_firstrun.py compares every piece with keys.py, sources.py and json on many inputs.
"""

from __future__ import annotations

import os

from reprorun.envs import layout, pipconfig

try:  # the builtin sha256 costs far less to import than hashlib's OpenSSL binding (as warm.py)
    from _sha2 import sha256  # type: ignore[import-not-found]  # Python >= 3.12
except ImportError:  # pragma: no cover - depends on the Python version
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment,unused-ignore]

KEY_VERSION = 1  # keys.KEY_VERSION (a test checks they agree)
FIELDS = ("executable", "implementation", "version", "abi", "platform", "platform_tag")  # interpreters.Interpreter
_WHITE = " \t\n\r"  # JSON's white space
_SHORT = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}

TYPE_CHECKING = False  # typing's own flag costs an import of typing
if TYPE_CHECKING:
    from typing import Any


def interpreter(root: str, executable: str) -> dict[str, str] | None:
    """The cache's description of the interpreter file `executable`, as it is now (its path, size
    and mtime name the record, as interpreters._record does); None if there is none or it is odd."""
    info = os.stat(executable)
    name = sha256(f"{executable}\0{info.st_size}\0{info.st_mtime_ns}".encode()).hexdigest()[:32]
    try:
        with open(os.path.join(root, layout.INTERPRETERS, f"{name}.json"), encoding="utf-8") as handle:
            found = flat_strings(handle.read())
    except FileNotFoundError:
        return None
    return found if found is not None and sorted(found) == sorted(FIELDS) else None


def flat_strings(text: str) -> dict[str, str] | None:
    """A JSON object of plain strings (no escapes), as json.loads reads it; None for anything else."""
    text = text.strip(_WHITE)
    if not (text.startswith("{") and text.endswith("}")) or "\\" in text:
        return None
    found: dict[str, str] = {}
    rest = text[1:-1].strip(_WHITE)
    while rest:
        name, rest = _string(rest)
        if name is None or not rest.startswith(":"):
            return None
        value, rest = _string(rest[1:].lstrip(_WHITE))
        if value is None:
            return None
        found[name] = value  # a later duplicate wins, as in json.loads
        if rest.startswith(","):
            rest = rest[1:].lstrip(_WHITE)
            if not rest:
                return None  # a trailing comma
        elif rest:
            return None
    return found


def _string(text: str) -> tuple[str | None, str]:
    """A plain JSON string at the start of text, and what follows it (white space skipped)."""
    close = text.find('"', 1)
    if not text.startswith('"') or close < 0 or any(char < " " for char in text[1:close]):
        return None, text
    return text[1:close], text[close + 1 :].lstrip(_WHITE)


def sources() -> dict[str, Any] | None:
    """The key document's `sources` when only pip's configuration sets them (as sources_for
    derives them with no options and no `[tool.reprorun]`); None when uv cannot be given them.
    Raises OSError for a constraint file that cannot be read (sources_for raises BuildError)."""
    pip = pipconfig.load()
    if pip.unmappable():
        return None
    found: dict[str, Any] = {
        "index-url": pip.get("index-url"),
        "extra-index-urls": list(dict.fromkeys(pip.items("extra-index-url"))),
        "find-links": list(dict.fromkeys(_absolute(link) for link in pip.items("find-links"))),
        "no-index": pip.flag("no-index"),
    }
    site: dict[str, Any] = {
        "trusted-hosts": list(pip.items("trusted-host")),
        "constraints": [_file_digest(_absolute(os.path.expanduser(path))) for path in pip.items("constraint")],
        "only-binary": _listed(pip.get("only-binary")),
        "no-binary": _listed(pip.get("no-binary")),
        "pre": pip.flag("pre"),
    }
    found.update((name, value) for name, value in site.items() if value)
    return found


def document(python: dict[str, str], sources: dict[str, Any]) -> dict[str, Any]:
    """The key document of an env without requirements (keys.document's)."""
    return {
        "version": KEY_VERSION,
        "requirements": [],
        "python": {
            "implementation": python["implementation"],
            "version": python["version"],
            "abi": python["abi"],
            "platform": python["platform_tag"],
            "executable": python["executable"],
        },
        "sources": sources,
        "exclude-newer": None,
        "hashes": {},
    }


def digest(doc: dict[str, Any]) -> str:
    """The key: sha256 of the canonical JSON (keys.digest)."""
    return str(sha256(dumps(doc).encode("ascii")).hexdigest())


def dumps(value: Any, indent: int | None = None, level: int = 0) -> str:  # noqa: ANN401 - any JSON value
    """`json.dumps(value, sort_keys=True, ensure_ascii=True)`, compact (`separators=(",", ":")`, the
    key's canonical form) or with `indent` (`reprorun-key.json` and the completion marker)."""
    if isinstance(value, dict):
        pairs = [(quoted(name), dumps(value[name], indent, level + 1)) for name in sorted(value)]
        if indent is None:
            return "{" + ",".join(f"{name}:{item}" for name, item in pairs) + "}"
        return _indented("{", [f"{name}: {item}" for name, item in pairs], "}", indent, level)
    if isinstance(value, list):
        items = [dumps(item, indent, level + 1) for item in value]
        return "[" + ",".join(items) + "]" if indent is None else _indented("[", items, "]", indent, level)
    if isinstance(value, str):
        return quoted(value)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):  # noqa: PLR0124 - NaN
            raise ValueError("not a finite number")
        return repr(value)
    return str(int(value))


def _indented(opening: str, items: list[str], closing: str, indent: int, level: int) -> str:
    if not items:
        return opening + closing
    inner, outer = "\n" + " " * indent * (level + 1), "\n" + " " * indent * level
    return opening + inner + ("," + inner).join(items) + outer + closing


def quoted(text: str) -> str:
    """A JSON string as `json.dumps` writes it with `ensure_ascii`."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    out = []
    for char in text:
        code = ord(char)
        if char in _SHORT:
            out.append(_SHORT[char])
        elif " " <= char <= "~":
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:  # a surrogate pair
            code -= 0x10000
            out.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
    return '"' + "".join(out) + '"'


def _file_digest(path: str) -> str:
    """The sha256 of a constraint file: its content decides the env, not its name."""
    with open(path, "rb") as handle:
        return str(sha256(handle.read()).hexdigest())


def _absolute(link: str) -> str:
    """sources._absolute without `re`: a URL as it is, a path made absolute."""
    scheme, separator, _ = link.partition("://")
    if separator and len(scheme) >= 2 and scheme[0].isascii() and scheme[0].isalpha() and all(
            char.isascii() and (char.isalnum() or char in "+.-") for char in scheme[1:]):  # fmt: skip
        return link
    return os.path.abspath(link)


def _listed(value: str | None) -> list[Any]:
    """pip's comma-separated `only-binary`/`no-binary` value, one entry each (sources._format_list)."""
    return [part.strip() for part in (value or "").replace(" ", ",").split(",") if part.strip()]
