# /// script
# dependencies = [
#     "rich",
#     "httpx >> 0.27",
# ]
# ///
