"""conda's package names and channels, as far as a script block (PyPI names) can use them."""

from __future__ import annotations

import re
from collections.abc import Collection

from reprorun.script import importnames

_CONDA_TO_PYPI = {"pytorch": "torch", "py-opencv": "opencv-python", "opencv": "opencv-python",
                  "python-graphviz": "graphviz", "pytables": "tables", "tensorflow-gpu": "tensorflow"}  # fmt: skip
# Packages of conda's own (no PyPI distribution does their job), and the channels whose packages
# carry PyPI's names; a package from any other channel (`-c plotly`, `bioconda::x`) is conda-only.
_CONDA_ONLY = {
    "python", "pip", "cudatoolkit", "cuda-toolkit", "cuda-nvcc", "cuda", "pytorch-cuda", "pytorch-mutex",
    "cpuonly", "cudnn", "nccl", "magma", "mkl", "mkl-service", "blas", "openblas", "libblas", "nodejs",
    "r-base", "ffmpeg", "plotly-orca", "orca", "graphviz", "poppler", "tesseract", "openjdk", "gcc", "gxx",
    "compilers", "cxx-compiler", "make", "git", "libgdal", "proj", "geos", "hdf5", "libnetcdf", "openmpi",
    "mpich", "perl", "jupyterlab_widgets-nodejs", "xorg-libx11", "pandoc", "imagemagick",
}  # fmt: skip
_CONDA_ONLY_PREFIXES = ("r-", "bioconductor-", "perl-", "xorg-")
_CONDA_DEFAULT_CHANNELS = {"defaults", "conda-forge", "anaconda", "main", "pkgs/main", "pkgs/free", "free"}


def channels(words: list[str]) -> list[str]:
    """The conda channels a line names (`-c X`, `--channel X`, `--channel=X`), other than conda's own."""
    found = []
    for index, word in enumerate(words):
        if word in ("-c", "--channel") and index + 1 < len(words):
            found.append(words[index + 1])
        elif word.startswith("--channel="):
            found.append(word.partition("=")[2])
    return [c for c in found if c.lower().rstrip("/") not in _CONDA_DEFAULT_CHANNELS]


def requirement(word: str, channels: Collection[str] = ()) -> tuple[str | None, str | None]:
    """A conda install word as (PEP 508 text on its PyPI name, None), or (None, why it is conda-only)."""
    channel, _, package = word.rpartition("::")
    named = [channel] if channel and channel.lower() not in _CONDA_DEFAULT_CHANNELS else list(channels)
    if named:
        return None, f"{package!r} comes from the conda channel {named[0]!r}: conda-only, not adopted"
    converted = conda_spec(word)
    if converted is None:
        return None, f"{word!r} is a conda-only package: not adopted"
    return converted, None


def conda_spec(word: str) -> str | None:
    """A conda spec (`numpy=1.26`, `pytorch>=2`) as a PEP 508 requirement on its PyPI name."""
    word = word.split("::", 1)[-1]  # channel::package
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(.*)", word)
    if not match:
        return word
    name, spec = match.groups()
    if name.lower() in _CONDA_ONLY or (name.lower().startswith(_CONDA_ONLY_PREFIXES) and name.lower() not in
                                       _CONDA_TO_PYPI and importnames.lookup(name) is None):  # fmt: skip
        return None
    name = _CONDA_TO_PYPI.get(name.lower(), name)
    if re.fullmatch(r"=[^=].*", spec):  # conda's `=1.2` means 1.2.*
        spec = "==" + spec[1:].rstrip("*").rstrip(".") + ".*"
    return name + spec
