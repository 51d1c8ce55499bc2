"""The parts of `launch/_runner.py`, run with it by an env's interpreter: standard library only, Python 3.8+.

`_runner.py` imports this folder as the top-level package `_headless` (its own folder is python's
`sys.path[0]` until the user's code starts); it imports nothing of reprorun.
"""
