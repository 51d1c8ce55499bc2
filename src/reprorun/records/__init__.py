"""Run records: what ran, where, with what, and how it ended, as an RO-Crate per run (DESIGN §8).

`facts` gathers the machine and the run's surroundings, `packages` the env's distributions,
`outputs` the files a run created or changed, `supervise` runs the script as a child and passes
its ending through, `crate` writes and reads the Process Run Crate, `recorder` ties a recorded run
together and `listing` finds records again. Standard library only: a recorded run stays cheap.
"""

from __future__ import annotations
