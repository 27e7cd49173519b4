"""`queryleaf serve`: the embedded engine behind MongoDB's wire protocol, durable on disk.

Rooms, one direction: `wire` (bytes <-> messages, no I/O), `dispatch` (a command document to a
reply document, through the command families in `commands_*`), `engine` (the served database:
one lock, the durable store, the cursor registry), `durable` and `history` (the journal file,
snapshots and the persisted change-stream history), `auth` (SCRAM-SHA-256), `listener` (the
thin socket loop) and `command` (the CLI).
"""
