"""Subscription statements to plans: EVENT_SUBSCRIPTION options and event filters, their
change-stream pipelines, live-query plans and the system table functions. Nothing here runs a
subscription: queryleaf.runtime does."""

from queryleaf.subscriptions import table_functions  # noqa: F401  (registers the table functions)
