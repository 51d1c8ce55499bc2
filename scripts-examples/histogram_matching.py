#!/usr/bin/env reprorun
# /// script
# requires-python = ">=3.10"
# dependencies = ["scikit-image", "matplotlib", "numpy"]
# ///
# ruff: noqa: T201 - a script prints its results
"""Match the colour histogram of one image to another's, and save a figure of both and their CDFs.

How to run it:

    reprorun scripts-examples/histogram_matching.py                  # writes histogram_matching.png
    reprorun scripts-examples/histogram_matching.py out/figure.png   # or to a path of your choice
    reprorun cells scripts-examples/histogram_matching.py            # list the cells
    reprorun --cells "Load images,Match" scripts-examples/histogram_matching.py   # only some cells

No network is needed at run time: both images ship inside the scikit-image wheel (skimage.data).
"""

import sys
from pathlib import Path

# %% Load images
import matplotlib

matplotlib.use("Agg")  # headless: draw to a file, never a window
import matplotlib.pyplot as plt
import numpy as np
from skimage import data, exposure

source = data.astronaut()  # (512, 512, 3) uint8, bundled
reference = data.coffee()  # (400, 600, 3) uint8, bundled
print(f"source {source.shape}, reference {reference.shape}")

# %% Match
matched = exposure.match_histograms(source, reference, channel_axis=-1)
for channel, name in enumerate("RGB"):
    before = source[..., channel].mean()
    after = matched[..., channel].mean()
    target = reference[..., channel].mean()
    print(f"{name}: mean {before:6.1f} -> {after:6.1f} (reference {target:6.1f})")

# %% Plot
output = Path(sys.argv[1] if len(sys.argv) > 1 else "histogram_matching.png")
fig, axes = plt.subplots(2, 3, figsize=(12, 7), layout="constrained")
for ax, image, title in zip(axes[0], (source, reference, matched), ("source", "reference", "matched"), strict=True):
    ax.imshow(image)
    ax.set_title(title)
    ax.set_axis_off()
for channel, (ax, name) in enumerate(zip(axes[1], ("red", "green", "blue"), strict=True)):
    for image, label in ((source, "source"), (reference, "reference"), (matched, "matched")):
        cdf, bins = exposure.cumulative_distribution(image[..., channel])
        ax.plot(bins, cdf, label=label)
    ax.set_title(f"{name} cumulative histogram")
    ax.set_xlim(0, 255)
axes[1][0].legend()
output.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(output, dpi=100)
print(f"wrote {output}")
assert np.allclose(
    [matched[..., c].mean() for c in range(3)], [reference[..., c].mean() for c in range(3)], atol=2.0
)
