# /// script
# requires-python = ">=3.10"
# dependencies = ["alpha"]
#
# [[tool.uv.index]]
# url = "https://download.pytorch.org/whl/cpu"
#
# [tool.uv.sources]
# alpha = { index = "pytorch" }
# ///
import alpha

print(alpha.__version__)
