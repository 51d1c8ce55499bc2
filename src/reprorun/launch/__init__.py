"""Launching a script in its environment: activation, exec, the in-process and warm launches."""
