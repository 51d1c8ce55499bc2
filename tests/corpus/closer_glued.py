# /// script
# dependencies = ["alpha"]
#///
import alpha
