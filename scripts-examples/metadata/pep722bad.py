# Script Dependencies:
#     rich
#     httpx >> 1
