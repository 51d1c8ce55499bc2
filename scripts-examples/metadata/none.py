print("no block")
