import sys
from importlib.metadata import version

print(sys.executable)
print("tabulate", version("tabulate"))
