"""Map import names to the distributions that provide them, and tell third-party imports apart.

`MISMATCHES` is a maintained table of import names whose distribution (on PyPI) has another name:
`import sklearn` needs `scikit-learn`. `SAME_NAME` lists common imports that are their own
distribution, so they can be proposed as known rather than assumed. `ALTERNATIVES` names other
distributions that provide the same import (`cv2` from `opencv-python-headless` too), so a `%pip`
line naming one of them satisfies the import. Keys may be dotted (`google.cloud.storage`); the
longest matching prefix wins.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

MISMATCHES: dict[str, str] = {
    # science, numerics, data
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "skbio": "scikit-bio",
    "skopt": "scikit-optimize",
    "skfuzzy": "scikit-fuzzy",
    "skvideo": "scikit-video",
    "sksparse": "scikit-sparse",
    "imblearn": "imbalanced-learn",
    "allel": "scikit-allel",
    "pywt": "pywavelets",
    "umap": "umap-learn",
    "faiss": "faiss-cpu",
    "ot": "pot",
    "stan": "pystan",
    "pyro": "pyro-ppl",
    "bayes_opt": "bayesian-optimization",
    "haiku": "dm-haiku",
    "tree": "dm-tree",
    "sonnet": "dm-sonnet",
    "community": "python-louvain",
    "snap": "snap-stanford",
    "janitor": "pyjanitor",
    "colour": "colour-science",
    "talib": "ta-lib",
    "zipline": "zipline-reloaded",
    "sdmx": "sdmx1",
    "z3": "z3-solver",
    "pysat": "python-sat",
    "osgeo": "gdal",
    "mpl_toolkits.basemap": "basemap",
    "mpl_toolkits": "matplotlib",
    "pylab": "matplotlib",
    "pyximport": "cython",
    "whisper": "openai-whisper",
    "llama_cpp": "llama-cpp-python",
    "libsbml": "python-libsbml",
    "roadrunner": "libroadrunner",
    "pycrfsuite": "python-crfsuite",
    "Box2D": "box2d-py",
    "MeCab": "mecab-python3",
    "spellchecker": "pyspellchecker",
    "enchant": "pyenchant",
    "readability": "readability-lxml",
    "newspaper": "newspaper3k",
    "HTSeq": "htseq",
    # images, media, documents
    "cv2": "opencv-python",
    "PIL": "pillow",
    "fitz": "pymupdf",
    "pdfminer": "pdfminer.six",
    "camelot": "camelot-py",
    "tabula": "tabula-py",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "odf": "odfpy",
    "fpdf": "fpdf2",
    "cairo": "pycairo",
    "ffmpeg": "ffmpeg-python",
    "speech_recognition": "speechrecognition",
    "vlc": "python-vlc",
    "barcode": "python-barcode",
    "OpenGL": "pyopengl",
    "magic": "python-magic",
    # formats, parsing, configuration
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "Bio": "biopython",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "decouple": "python-decouple",
    "slugify": "python-slugify",
    "multipart": "python-multipart",
    "attr": "attrs",
    "ruamel": "ruamel.yaml",
    "antlr4": "antlr4-python3-runtime",
    "clang": "libclang",
    "capnp": "pycapnp",
    "pkg_resources": "setuptools",
    "google.protobuf": "protobuf",
    "Levenshtein": "levenshtein",
    "lru": "lru-dict",
    # systems, network, hardware
    "serial": "pyserial",
    "usb": "pyusb",
    "can": "python-can",
    "bluetooth": "pybluez",
    "RPi": "rpi-gpio",
    "zmq": "pyzmq",
    "grpc": "grpcio",
    "grpc_tools": "grpcio-tools",
    "dns": "dnspython",
    "nacl": "pynacl",
    "jwt": "pyjwt",
    "jose": "python-jose",
    "Crypto": "pycryptodome",
    "Cryptodome": "pycryptodomex",
    "OpenSSL": "pyopenssl",
    "websocket": "websocket-client",
    "socketio": "python-socketio",
    "engineio": "python-engineio",
    "paho": "paho-mqtt",
    "nats": "nats-py",
    "kafka": "kafka-python",
    "ldap": "python-ldap",
    "nmap": "python-nmap",
    "Xlib": "python-xlib",
    "gi": "pygobject",
    "dbus": "dbus-python",
    "wx": "wxpython",
    "win32api": "pywin32",
    "win32con": "pywin32",
    "win32com": "pywin32",
    "pythoncom": "pywin32",
    "pywintypes": "pywin32",
    # services, databases, web
    "git": "gitpython",
    "github": "pygithub",
    "telegram": "python-telegram-bot",
    "discord": "discord.py",
    "MySQLdb": "mysqlclient",
    "bson": "pymongo",
    "gridfs": "pymongo",
    "cassandra": "cassandra-driver",
    "tortoise": "tortoise-orm",
    "snowflake.connector": "snowflake-connector-python",
    "databricks.sql": "databricks-sql-connector",
    "googleapiclient": "google-api-python-client",
    "google.auth": "google-auth",
    "google.oauth2": "google-auth",
    "google.generativeai": "google-generativeai",
    "google.cloud.storage": "google-cloud-storage",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "azure.storage.blob": "azure-storage-blob",
    "azure.identity": "azure-identity",
    "weaviate": "weaviate-client",
    "plaid": "plaid-python",
    "rest_framework": "djangorestframework",
    "corsheaders": "django-cors-headers",
    "environ": "django-environ",
    "factory": "factory-boy",
    "vcr": "vcrpy",
}

SAME_NAME: frozenset[str] = frozenset({
    "numpy", "scipy", "pandas", "matplotlib", "seaborn", "plotly", "bokeh", "altair", "statsmodels",
    "sympy", "networkx", "h5py", "zarr", "xarray", "netCDF4", "dask", "numba", "polars", "pyarrow",
    "duckdb", "tables", "openpyxl", "xlrd", "xlsxwriter", "torch", "torchvision", "torchaudio",
    "tensorflow", "keras", "jax", "flax", "optax", "transformers", "datasets", "tokenizers",
    "accelerate", "xgboost", "lightgbm", "catboost", "optuna", "shap", "mlflow", "wandb", "nltk",
    "spacy", "gensim", "astropy", "healpy", "nibabel", "nilearn", "mne", "pydicom", "SimpleITK",
    "napari", "cellpose", "scanpy", "anndata", "pysam", "rdkit", "mdtraj", "ase", "pymatgen",
    "geopandas", "shapely", "pyproj", "rasterio", "fiona", "cartopy", "folium", "imageio",
    "tifffile", "requests", "httpx", "aiohttp", "tqdm", "click", "typer", "rich", "pydantic",
    "jinja2", "lxml", "sqlalchemy", "psycopg2", "pymongo", "redis", "boto3", "openai", "joblib",
    "dill", "cloudpickle", "numexpr", "bottleneck", "lmfit", "emcee", "corner", "pymc", "arviz",
    "cvxpy", "ortools", "pulp", "pint", "uncertainties", "tabulate", "ipywidgets", "IPython",
    "streamlit", "dash", "panel", "holoviews", "pyvista", "vtk", "trimesh", "open3d", "pytest",
    "hypothesis", "psutil", "paramiko", "toml", "tomli", "packaging", "platformdirs", "filelock",
})

ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "cv2": ("opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless"),
    "PIL": ("pillow-simd",),
    "psycopg2": ("psycopg2-binary",),
    "faiss": ("faiss-gpu", "faiss-gpu-cu12"),
    "Crypto": ("pycrypto",),
    "tensorflow": ("tensorflow-cpu", "tensorflow-gpu", "tf-nightly"),
    "Levenshtein": ("python-levenshtein",),
    "igraph": ("python-igraph",),
}

_EXTRA_STDLIB = frozenset({"__future__", "__main__", "builtins"})


def top_level(module: str) -> str:
    """The first component of a dotted module name."""
    return module.split(".", 1)[0]


def is_stdlib(module: str) -> bool:
    """Whether the module belongs to the standard library of the interpreter running reprorun."""
    name = top_level(module)
    return name in sys.stdlib_module_names or name in sys.builtin_module_names or name in _EXTRA_STDLIB


def lookup(module: str) -> tuple[str, str] | None:
    """The table's (distribution, the key that matched) for a module, by longest dotted prefix."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        key = ".".join(parts[:end])
        if key in MISMATCHES:
            return MISMATCHES[key], key
        if key in SAME_NAME:
            return key, key
    return None


def providers(module: str) -> frozenset[str]:
    """Canonical names of every distribution known to provide the module's top-level import."""
    names = {canonicalize_name(top_level(module))}
    found = lookup(module)
    if found:
        names.add(canonicalize_name(found[0]))
        names.update(canonicalize_name(alt) for alt in ALTERNATIVES.get(found[1], ()))
    names.update(canonicalize_name(alt) for alt in ALTERNATIVES.get(top_level(module), ()))
    return frozenset(names)


def known_distribution(name: str) -> bool:
    """Whether the tables know a distribution of this name on PyPI (as an import's source)."""
    known = {canonicalize_name(n) for n in (*SAME_NAME, *MISMATCHES.values())}
    known.update(canonicalize_name(alt) for alts in ALTERNATIVES.values() for alt in alts)
    return canonicalize_name(name) in known


def installed_distributions() -> Mapping[str, list[str]]:
    """What the current environment says: top-level import name -> distribution names."""
    from importlib.metadata import packages_distributions

    return packages_distributions()


def local_modules(script: str | Path) -> frozenset[str]:
    """Top-level names importable from the script's own folder: modules and packages beside it."""
    folder = Path(script).resolve().parent
    names = set()
    try:
        entries = list(folder.iterdir())
    except OSError:
        return frozenset()
    for entry in entries:
        if entry.is_file() and entry.suffix in (".py", ".pyc", ".so", ".pyd"):
            names.add(entry.name.split(".", 1)[0])
        elif entry.is_dir() and entry.name.isidentifier() and _holds_python(entry):
            names.add(entry.name)
    return frozenset(names)


def _holds_python(folder: Path) -> bool:
    try:
        return any(child.suffix == ".py" for child in folder.iterdir())
    except OSError:
        return False
