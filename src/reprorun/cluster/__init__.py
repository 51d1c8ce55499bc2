"""Slurm: batch scripts (batch.py), content-addressed snapshots (snapshot.py), the Slurm commands (slurm.py)."""
