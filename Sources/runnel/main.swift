print("runnel: not yet")
