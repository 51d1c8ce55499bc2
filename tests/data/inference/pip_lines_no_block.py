# %% Setup
# %pip install requests 'rich>=13'
import requests
from rich import print

# %% Fetch
print(requests.get("https://example.org").status_code)
