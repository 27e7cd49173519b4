"""Change streams in SQL: subscription definitions, their compilation to change-stream
pipelines, live queries and the system table functions."""
