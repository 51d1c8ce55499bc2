"""Running inside a Slurm job that `sbatch script.py` started (a script with the reprorun shebang).

Then every array task starts reprorun on its own. They share one build: the first takes the
key's build lock, the others wait for it and reuse the env (envs/build.py). Building on a compute
node needs the network, which many clusters do not give them: say so, and name `submit`, which
builds on the login node and runs the tasks offline.
"""

from __future__ import annotations

import logging
import os

from reprorun.envs import build as envs
from reprorun.envs import keys
from reprorun.envs.cache import Cache
from reprorun.errors import ReprorunError
from reprorun.options import Options

log = logging.getLogger("reprorun")

ADVICE = ("where compute nodes have no network, build on the login node instead: "
          "reprorun submit {script} (or reprorun sync {script}, then sbatch)")  # fmt: skip


def ensure_in_job(cache: Cache, spec: envs.Spec, options: Options, label: str) -> envs.Env:
    """`envs.ensure` inside a Slurm job: a note before a build, and the advice if the build fails."""
    job = os.environ.get("SLURM_ARRAY_JOB_ID") or os.environ.get("SLURM_JOB_ID", "?")
    if options.refresh or cache.lookup(keys.digest(spec.document())) is None:
        log.info("the environment is not built: building it inside Slurm job %s (its tasks share one build); %s",
                 job, ADVICE.format(script=label))  # fmt: skip
    try:
        return envs.ensure(cache, spec, options, label)
    except ReprorunError as exc:
        exc.hint = (exc.hint + "; " if exc.hint else "") + ADVICE.format(script=label)
        raise
