"""Notebooks executed by a real Jupyter kernel in the script's env, papermill-style parameters,
`--each` matrices, and kernelspecs for IDEs (DESIGN §9).

Nothing here imports Jupyter: nbclient, nbformat and ipykernel live in the kernel env layered on
the script's env (layer.py), where `_execute.py` runs; reprorun itself stays small.
"""
