# /// script
# requires-python = ">=3.99"
# ///
print("from the future")
