"""Freezing a block into exact pins, in layers.

    pins.py       pure: the block's pins, the one "frozen and current" rule, what to resolve
    resolve.py    pip's resolution (the same pip command builder as builds) and its report
    writeback.py  the use case shared by --freeze, add and remove: resolve, render, verify, write

The block's TOML is edited and rendered by the block editor (script/blockedit.py, tomledit.py,
tomlrender.py). The run path imports none of this.
"""
