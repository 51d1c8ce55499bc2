"""Split argv into reprorun's options, the first positional (a script or a command) and the rest."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence


def split_argv(argv: Sequence[str], parser: argparse.ArgumentParser) -> tuple[list[str], str | None, list[str]]:
    """Split argv into (reprorun's options, the first positional, everything after it)."""
    takes = {  # how many values each option takes (`-p NAME VALUE` takes two)
        opt: action.nargs if isinstance(action.nargs, int) else 1
        for action in parser._actions
        for opt in action.option_strings
    }
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return list(argv[:i]), (argv[i + 1] if i + 1 < len(argv) else None), list(argv[i + 2 :])
        if arg == "-" or not arg.startswith("-"):
            return list(argv[:i]), arg, list(argv[i + 1 :])
        if arg == "--record":  # an optional DIR: the next word, unless it is the script
            i += 2 if _is_record_dir(argv[i + 1 : i + 3]) else 1
            continue
        i += 1 + takes.get(arg, 0)
    return list(argv), None, []


def _is_record_dir(following: Sequence[str]) -> bool:
    """Whether the word after `--record` is its DIR: not an option or a script, and a script follows."""
    if len(following) < 2:
        return False
    word = following[0]
    return not (word.startswith("-") or word.endswith((".py", ".ipynb")) or os.path.isfile(word))


def bare_record(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """A command's `--record` without its DIR as `--record=` (argparse would take the next word for DIR)."""
    options = len(split_argv(argv, parser)[0])
    return [
        "--record=" if i < options and arg == "--record" and not _is_record_dir(argv[i + 1 : i + 3]) else arg
        for i, arg in enumerate(argv)
    ]
