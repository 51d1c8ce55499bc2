# /// script
# dependencies = ["rich"]
# ///
# This comment continues the comment run.
# ///
