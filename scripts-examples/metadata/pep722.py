# Script Dependencies:
#     rich
#     httpx  # for the API
import rich
