#/// script
# dependencies = ["alpha"]
# ///
import alpha

print(alpha.__version__)
