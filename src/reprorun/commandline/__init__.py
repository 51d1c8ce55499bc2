"""The parts of the command line that `cli.py` (argv, dispatch, exit codes) is made of.

`argv` splits argv into reprorun's options, the script or command, and the rest; `globalopts` holds
the options every command takes and turns them into the `Options` bundle; `logs` makes reprorun's
messages `reprorun: ...` lines on stderr. Like `cli.py`, they sit above the commands.
"""
