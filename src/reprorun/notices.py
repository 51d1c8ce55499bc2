"""Warnings about one input told to the user, capped: the one home of "the first SHOWN, then a count".

A file with 100,000 unclosed openers, or a notebook that imports 5,000 unknown modules, is one
problem to its author, not 100,000 lines on stderr. Every place that warns once per item of an
input (a block's notices, inferred imports and install lines, adopted requirement lines, pins,
parameters, config keys, `#SBATCH` lines) tells them through `warn_all`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

log = logging.getLogger("reprorun")

SHOWN = 10  # warnings told per input; the rest are counted in one line

Told = str | tuple[str, str | None]  # a message, or (message, hint)
Item = TypeVar("Item")


def warn_all(where: str, items: Sequence[Item], say: Callable[[Item], Told], shown: int = SHOWN) -> None:
    """Warn about the first `shown` items (each hint once), then one line counting the rest.

    `say` turns an item into its message (naming its file and line itself), or (message, hint);
    it is called for the told items only, so a long list costs nothing to count. `where` names the
    input in the closing `N more warnings like these not shown` line.
    """
    hints: set[str] = set()
    for item in items[:shown]:
        told = say(item)
        message, hint = (told, None) if isinstance(told, str) else told
        log.warning("%s", message)
        if hint and hint not in hints:  # the same advice once
            hints.add(hint)
            log.warning("hint: %s", hint)
    if len(items) > shown:
        log.warning("%s: %d more warnings like these not shown", where, len(items) - shown)


def names(items: Iterable[str], shown: int = 20) -> str:
    """A comma-separated list of at most `shown` names, the rest counted: `a, b, c and 4,996 more`."""
    listed = list(dict.fromkeys(items))
    if len(listed) <= shown:
        return ", ".join(listed)
    return f"{', '.join(listed[:shown])} and {len(listed) - shown:,} more"
