# /// Script
# dependencies = ["alpha"]
# ///
import alpha
