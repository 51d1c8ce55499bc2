"""Edit a script's `script` block as text: pure functions from old text to new text.

Only the block's span ever changes. Inside it, lines whose content is unchanged keep their exact
bytes (prefix, line ending); new lines take the line ending of the block's opening line. The TOML
inside is tomledit.py's to change and tomlrender.py's to write.
"""

from __future__ import annotations

import difflib
import re

from reprorun.script.blocks import Block, split_lines

_LINE_END = re.compile(r"\r\n|\r|\n")
_ENCODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")


# --- the block as text -------------------------------------------------------------------------


def newline_of(text: str, at: int = 0) -> str:
    """The line ending of the line that starts at `at` (LF when it has none)."""
    match = _LINE_END.search(text, at)
    return match.group() if match else "\n"


def render_block(content: str, newline: str = "\n") -> str:
    """A whole `# /// script` ... `# ///` block for TOML content, without a final line ending."""
    lines = ["# /// script", *(_comment(line) for line in _content_lines(content)), "# ///"]
    return newline.join(lines)


def replace_block(text: str, block: Block, content: str) -> str:
    """The text with the block's content replaced; every byte outside the block is kept."""
    old = _with_endings(text[block.start : block.end])
    newline = old[0][1] or "\n"
    old_middle = old[1:-1]
    new_middle = _content_lines(content)
    keys = [line[2:] if line.startswith("# ") else "" for line, _ in old_middle]
    out: list[tuple[str, str]] = [old[0]]
    # The lines the edit left alone at both ends are kept as they are, in linear time; only the
    # changed middle is diffed (difflib is quadratic on many equal lines: 20,000 took 44 s).
    lo, hi = _common_ends(keys, new_middle)
    out.extend(old_middle[:lo])
    changed_old, changed_new = keys[lo : len(keys) - hi], new_middle[lo : len(new_middle) - hi]
    if len(changed_old) * len(changed_new) > _DIFF_LIMIT:  # a rewrite, not an edit: new lines
        out.extend((_comment(line), newline) for line in changed_new)
    else:
        matcher = difflib.SequenceMatcher(a=changed_old, b=changed_new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                out.extend(old_middle[lo + i1 : lo + i2])
            else:
                out.extend((_comment(line), newline) for line in changed_new[j1:j2])
    out.extend(old_middle[len(keys) - hi :])
    out.append((old[-1][0], ""))
    return text[: block.start] + "".join(line + end for line, end in out) + text[block.end :]


_DIFF_LIMIT = 1_000_000  # line pairs difflib may compare in the changed part of a block


def _common_ends(old: list[str], new: list[str]) -> tuple[int, int]:
    """How many lines the two lists share at their start, and then at their end."""
    most = min(len(old), len(new))
    lo = 0
    while lo < most and old[lo] == new[lo]:
        lo += 1
    hi = 0
    while hi < most - lo and old[-1 - hi] == new[-1 - hi]:
        hi += 1
    return lo, hi


def insert_block(text: str, content: str) -> str:
    """The text with a new block inserted after its shebang, encoding line and jupytext header."""
    lines = split_lines(text)
    newline = newline_of(text)
    block = render_block(content, newline)
    if not lines:
        return block + newline
    index = _insertion_index([line for _, line in lines])
    before_blank = False
    if index > 0 and _is_jupytext_end(lines, index):
        before_blank = True
    if index >= len(lines):  # nothing after the header: append, keeping a missing final newline
        ends_with_newline = text.endswith(("\n", "\r"))
        joiner = "" if ends_with_newline else newline
        blank = newline if before_blank else ""
        return text + joiner + blank + block + (newline if ends_with_newline else "")
    offset = lines[index][0] + (1 if index == 0 and text.startswith("\ufeff") else 0)
    after_blank = lines[index][1].strip() != ""
    return (
        text[:offset]
        + (newline if before_blank else "")
        + block
        + newline
        + (newline if after_blank else "")
        + text[offset:]
    )


def _insertion_index(lines: list[str]) -> int:
    """First line after the shebang, the PEP 263 encoding line and a jupytext YAML header."""
    first = lines[0].lstrip("\ufeff")
    index = 1 if first.startswith("#!") else 0
    # PEP 263: the encoding line is line 1, or line 2 when line 1 is a comment (a shebang).
    if len(lines) > 1 and first.startswith("#") and _ENCODING.match(lines[1]):
        index = 2
    elif _ENCODING.match(first):
        index = 1
    if index < len(lines) and lines[index].lstrip("\ufeff").rstrip() == "# ---":
        for end in range(index + 1, len(lines)):
            if lines[end].rstrip() == "# ---":
                index = end + 1
                while index < len(lines) and not lines[index].strip():
                    index += 1
                break
            if not lines[end].startswith("#"):
                break
    return index


def _is_jupytext_end(lines: list[tuple[int, str]], index: int) -> bool:
    previous = lines[index - 1][1].rstrip()
    return previous == "# ---" and index - 1 > 0


def _with_endings(text: str) -> list[tuple[str, str]]:
    pieces: list[tuple[str, str]] = []
    position = 0
    for match in _LINE_END.finditer(text):
        pieces.append((text[position : match.start()], match.group()))
        position = match.end()
    pieces.append((text[position:], ""))
    return pieces


def _content_lines(content: str) -> list[str]:
    return content[:-1].split("\n") if content.endswith("\n") else content.split("\n") if content else []


def _comment(line: str) -> str:
    return "# " + line if line else "#"
