"""Scripts as people write them: lines that almost open or close a block, and uv's own table.

Public scripts carry `#/// script`, `# ///script`, `# /// Script` or `# /// scripts`; PEP 723
reads none of them, so the script would run without its dependencies and fail on its first
import. A `[tool.uv]` table with indexes or sources changes where uv installs from, which
reprorun does not read. Each gets one warning with the exact fix. Pure: text in, advice out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from reprorun.script.blocks import CLOSE, Block, split_lines

# A comment line whose words are `///` and a type, spaced or cased wrongly (the exact form is an opener).
_OPENER = re.compile(r"^\s*#\s*/{3}\s*(?P<type>[A-Za-z][A-Za-z0-9-]*)\s*$")
_CLOSER = re.compile(r"^\s*#\s*/{3}\s*$")
_SCRIPT_TYPES = {"script", "scripts"}

# [tool.uv] keys that change what is installed or from where, and reprorun's way to say it.
UV_KEYS: dict[str, str] = {
    "index": "[tool.reprorun] index-url / extra-index-urls (or pip.conf)",
    "index-url": "[tool.reprorun] index-url (or pip.conf)",
    "extra-index-url": "[tool.reprorun] extra-index-urls (or pip.conf)",
    "find-links": "[tool.reprorun] find-links (or pip.conf)",
    "no-index": "--no-index (or no-index in pip.conf)",
    "index-strategy": "one index, or pip.conf",
    "sources": "a direct reference in dependencies ('name @ URL')",
    "exclude-newer": "[tool.reprorun] exclude-newer",
    "constraint-dependencies": "pins in dependencies (reprorun --freeze)",
    "override-dependencies": "pins in dependencies (reprorun --freeze)",
    "prerelease": "a pre-release specifier in dependencies ('name>=2.0b1')",
    "no-build": "--no-build (or no-build = true in reprorun's config)",
    "no-build-package": "--no-build (or no-build = true in reprorun's config)",
    "no-binary": "no-binary in pip.conf",
    "no-binary-package": "no-binary in pip.conf",
}


def near_misses(text: str, blocks: tuple[Block, ...]) -> list[tuple[int, str, str]]:
    """(line, message, hint) for every line that looks meant to open or close a script block."""
    # Lines inside real blocks are content, but a block typed `Script` or `scripts` is a near miss too.
    inside = [(b.start_line, b.end_line) for b in blocks if b.type == "script" or b.type.lower() not in _SCRIPT_TYPES]
    found: list[tuple[int, str, str]] = []
    opened = False  # after a near-miss or real opener, a near-miss closer is worth a word
    for number, (_, raw) in enumerate(split_lines(text), start=1):
        line = raw.lstrip("\ufeff") if number == 1 else raw
        if any(start <= number <= end for start, end in inside):
            opened = False
            continue
        opener = _OPENER.match(line)
        if opener and opener.group("type").lower() in _SCRIPT_TYPES and line != "# /// script":
            found.append((number, f"'{line.strip()}' is not a PEP 723 opener, so this block is not read",
                          "write the line exactly as '# /// script'"))  # fmt: skip
            opened = True
        elif line == "# /// script":
            opened = True
        elif opened and _CLOSER.match(line) and line != CLOSE:
            found.append((number, f"'{line}' does not close a PEP 723 block",
                          "write the line exactly as '# ///' (no other spaces)"))  # fmt: skip
            opened = False
        elif not line.startswith("#"):
            opened = False
    return found


def uv_table(tool: Mapping[str, object]) -> tuple[str, str] | None:
    """(message, hint) when `[tool.uv]` has keys that would change the install; None otherwise."""
    table = tool.get("uv")
    if not isinstance(table, Mapping):
        return None
    keys = [key for key in table if key in UV_KEYS]
    if not keys:
        return None
    advice = "; ".join(dict.fromkeys(f"{key}: {UV_KEYS[key]}" for key in keys))
    return (f"[tool.uv] {', '.join(keys)} ignored: reprorun does not read uv's settings", f"use instead {advice}")
