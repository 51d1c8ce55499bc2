# /// script
# dependencies = ["rich"]
#
# [tool.uv]
# index = [{ url = "https://example.org/simple" }]
# sources = { rich = { git = "https://github.com/Textualize/rich" } }
# ///
import rich
