"""Install lines of a script or notebook (`%pip install`, `!conda install`, ...): parsed, told, marked adopted.

Pure functions over text: `pip_installs(text)` parses every install line (commented ones too),
`install_hint` names what a script without a block asks for, and `comment_out_pip_lines(text)`
marks adopted lines as such (never deleting them).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reprorun.script import conda, source

ADOPTED_NOTE = "# reprorun: adopted into the script block: "

# `%pip install`, `!pip3 install`, `!python -m pip install`, `!{sys.executable} -m pip install`,
# `%conda install`, `!uv pip install`, commented as jupytext keeps them (`# %pip install x`).
_INSTALL = re.compile(
    r"""^(?P<indent>[ \t]*)(?:pass[ \t]+)?(?P<comment>\#[ \t]*)?
        (?:reprorun:\ adopted\ into\ the\ script\ block:\ )?
        (?P<sigil>[%!])[ \t]*
        (?P<tool>pip3?|uv[ \t]+pip|conda|mamba|micromamba
           |(?:\S*/)?python(?:3(?:\.\d+)?)?[ \t]+-m[ \t]+pip|\{sys\.executable\}[ \t]+-m[ \t]+pip)
        [ \t]+install\b(?P<args>.*)$""",
    re.VERBOSE,
)
_IGNORED_OPTIONS = {
    "-q", "--quiet", "-U", "--upgrade", "--user", "--no-cache-dir", "--force-reinstall",
    "--no-warn-script-location", "--disable-pip-version-check", "-y", "--yes", "--quiet-all",
    "-v", "--verbose", "--progress-bar", "--upgrade-strategy", "--no-input",
}  # fmt: skip
_OPTIONS_WITH_VALUE = {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "--channel", "--progress-bar",
    "--upgrade-strategy", "-t", "--target", "--prefix", "--python",
}  # fmt: skip


@dataclass(frozen=True)
class PipInstall:
    """One install line: its line number, the requirements it names and what it could not adopt."""

    line: int
    command: str  # as written, normalised: "%pip install", "!conda install", "# !pip install"
    requirements: tuple[str, ...]
    problems: tuple[str, ...]



def pip_installs(text: str) -> list[PipInstall]:
    """Every `pip`/`conda install` line of the text, parsed; commented ones too."""
    found: list[PipInstall] = []
    for number, line in enumerate(source.lines(text), start=1):
        match = _INSTALL.match(line.rstrip("\r\n"))
        if match:
            found.append(_parse_install(number, match))
    return found


def install_hint(text: str, path: str, notebook: bool = False) -> tuple[str, str] | None:
    """For a script without a block: (message, hint) naming what its install lines ask for and
    the command that adopts them, or None when it has no such line. Cheap when there is none."""
    if "install" not in text:
        return None
    wanted = [r for install in pip_installs(text) if ADOPTED_NOTE.strip() not in install.command
              for r in install.requirements]  # fmt: skip
    if not wanted:
        return None
    names = ", ".join(dict.fromkeys(_canonical(r) for r in wanted))
    hint = f"adopt them into a script block with: reprorun init --infer {path}"
    if notebook:
        hint += f" (or build from them once: reprorun --infer {path})"
    return f"{path} has no script block, but its install lines ask for: {names}", hint


def tell_install_lines(text: str, path: str) -> bool:
    """Warn (stderr, through logging) when a script or notebook without a block has install lines:
    the packages they name and the command that adopts them; whether it did (issue 16)."""
    import logging

    from reprorun.script import notebooks

    notebook = path.endswith(".ipynb")
    found = install_hint(notebooks.code_text(text, path) if notebook else text, path, notebook)
    if found:
        logging.getLogger("reprorun").warning("%s", found[0])
        logging.getLogger("reprorun").warning("hint: %s", found[1])
    return found is not None


def comment_out_pip_lines(text: str, lines: Collection[int] | None = None) -> str:
    """The text with adopted install lines (all, or those numbered) marked, never deleted.

    A live line becomes `# reprorun: adopted into the script block: %pip install x` (after `pass`
    when it is indented, so its block stays valid); a commented one gets the note too; a line
    already carrying the note is left as it is. Line endings and every other line are kept.
    """
    out = []
    for number, line in enumerate(source.lines(text), start=1):
        body = line.rstrip("\r\n")
        match = _INSTALL.match(body)
        if match and (lines is None or number in lines) and ADOPTED_NOTE.strip() not in body:
            indent = match.group("indent")
            code = body[len(indent) :]
            if match.group("comment"):
                code = code[len(match.group("comment")) :]
            prefix = f"{indent}pass  " if indent and not match.group("comment") else indent
            out.append(prefix + ADOPTED_NOTE + code + line[len(body) :])
        else:
            out.append(line)
    return "".join(out)


def _parse_install(number: int, match: re.Match[str]) -> PipInstall:
    tool = match.group("tool")
    is_conda = tool in ("conda", "mamba", "micromamba")
    command = ("# " if match.group("comment") else "") + match.group("sigil")
    command += (tool if is_conda else "pip") + " install"
    problems: list[str] = []
    requirements: list[str] = []
    try:
        words = shlex.split(match.group("args"), comments=True)
    except ValueError:
        return PipInstall(number, command, (), ("cannot split the line into words",))
    channels = conda.channels(words) if is_conda else []
    i = 0
    while i < len(words):
        word = words[i]
        value = words[i + 1] if i + 1 < len(words) else ""
        i += 1
        if word in ("&&", ";", "||", "|"):
            problems.append(f"the rest of the line after {word!r} is ignored")
            break
        if word.startswith("-"):
            option = word.split("=", 1)[0]
            takes_value = option in _OPTIONS_WITH_VALUE and "=" not in word
            if takes_value:
                i += 1
            else:
                value = word.partition("=")[2]
            problems.extend(_option_problem(option, value, is_conda))
            continue
        requirement, problem = _requirement(word, is_conda, channels)
        if problem:
            problems.append(problem)
        if requirement:
            requirements.append(requirement)
    return PipInstall(number, command, tuple(requirements), tuple(problems))


def _option_problem(option: str, value: str, is_conda: bool) -> list[str]:
    if option in _IGNORED_OPTIONS:
        return []
    if option in ("-c", "--channel") and is_conda:
        return []  # said with each package of the line (see `_requirement`)
    if option in ("-r", "--requirement", "-c", "--constraint"):
        return [f"'{option} {value}' is not supported: add those requirements to the block yourself"]
    if option in ("-e", "--editable"):
        return [f"editable install '{option} {value}' not adopted: a block cannot hold it"]
    if option in ("-i", "--index-url"):
        return [f"index {value!r}: set it as index-url under [tool.reprorun]"]
    if option == "--extra-index-url":
        return [f"extra index {value!r}: add it to extra-index-urls under [tool.reprorun]"]
    if option in ("-f", "--find-links"):
        return [f"find-links {value!r}: add it to find-links under [tool.reprorun]"]
    if option == "--pre":
        return ["--pre: pre-releases are not allowed by default; pin one explicitly if needed"]
    return [f"option {option!r} ignored"]


def _requirement(word: str, is_conda: bool, channels: Collection[str] = ()) -> tuple[str | None, str | None]:
    if "{" in word or "$" in word:
        return None, f"{word!r} uses a notebook variable: not adopted"
    if is_conda:
        converted, problem = conda.requirement(word, channels)
        if converted is None:
            return None, problem
        word = converted
    path_like = "://" in word or word.startswith((".", "/")) or word.endswith((".whl", ".tar.gz", ".zip"))
    if path_like and "@" not in word:
        return None, f"{word!r} is not a named requirement: add it as 'name @ URL'"
    try:
        Requirement(word)
    except InvalidRequirement as exc:
        return None, f"{word!r} is not a valid requirement: {str(exc).splitlines()[0]}"
    return word, None  # as the user wrote it


def _canonical(requirement: str) -> str:
    return canonicalize_name(Requirement(requirement).name)
