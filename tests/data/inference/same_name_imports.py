# %% [markdown]
# Fine-tune a small classifier on a Kaggle dataset (cell script, no block yet).

# %%
import os

import kagglehub
import matplotlib_inline.backend_inline
import pytorch_lightning as pl
import tf_keras
import torch
import torchmetrics

# %%
path = kagglehub.dataset_download("owner/dataset")
metric = torchmetrics.Accuracy(task="binary")
matplotlib_inline.backend_inline.set_matplotlib_formats("png")
print(os.listdir(path), pl.__version__, tf_keras.__version__, torch.__version__)
