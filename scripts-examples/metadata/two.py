# /// script
# dependencies = ["rich"]
# ///

# /// script
# dependencies = ["httpx"]
# ///
