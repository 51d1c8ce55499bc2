import os
# %% [markdown]
# # Title

# %% Load tags=["x"]
# /// script
# dependencies = ["rich"]
# ///
import rich
