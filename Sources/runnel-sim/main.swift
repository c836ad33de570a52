print("runnel-sim: not yet")
