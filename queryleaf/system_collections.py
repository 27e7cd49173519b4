"""The collections queryleaf itself keeps in a user's database: subscription definitions, the
event log, dead letters, open streams and leases. Every room may name them; only the runtime
and the subscription statements write them."""

from __future__ import annotations

SUBSCRIPTIONS = "event_subscriptions"
EVENT_LOG = "change_stream_events"
DEAD_LETTERS = "dead_letter_events"
ACTIVE_STREAMS = "active_change_streams"
LEASES = "event_subscription_leases"

# A whole-database stream leaves them out: the runtime writes to them for every event it
# handles, which would otherwise feed back into the stream.
SYSTEM_COLLECTIONS = [SUBSCRIPTIONS, EVENT_LOG, DEAD_LETTERS, ACTIVE_STREAMS, LEASES]
