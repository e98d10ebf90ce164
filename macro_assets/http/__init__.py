"""The HTTP layer of the connectors: the client (client.py), secret redaction (redaction.py) and the offline
replay of recorded exchanges (replay.py)."""
