"""The showcase's event subscriptions, as SQL.

The seed's `user_service_events` is created verbatim from seed/user_service_events.sql, then
ALTERed for this deployment: a target (the seed names none, so every event would be printed
on stdout) and the business columns. The other services are the ones the seed's JavaScript
and monitoring query name.

Every subscription reads its business columns from the changed document's `event_meta`, and
reads post-images (`full_document = 'whenAvailable'`; the collections have pre- and
post-images on) rather than the seed's `updateLookup`: a lookup returns the document as it is
when the event is read, so an event read after a later write to the same document would be
attributed to the later process.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
SEED_SUBSCRIPTION = HERE / "seed" / "user_service_events.sql"

# Retries stay in milliseconds so the demo's failures settle fast.
FAST_RETRIES = "max_retry_attempts = 2, retry_delay_ms = 5, exponential_backoff = FALSE"
BUSINESS_COLUMNS = """
  full_document = 'whenAvailable',
  correlation_id_field = 'event_meta.correlation_id',
  business_process_id_field = 'event_meta.business_process_id',
  source_service_field = 'event_meta.source_service',
  target_service_field = 'event_meta.target_service',
  interaction_type_field = 'event_meta.interaction_type'"""

# name -> the subscription_id its event-log rows carry
SUBSCRIPTION_IDS = {
    "user_service_events": "user_lifecycle_events",
    "user_auth_events": "user_auth_events",
    "inventory_management": "inventory_management",
    "realtime_analytics": "realtime_analytics",
    "notification_service": "notification_service",
    "audit_logging": "audit_logging",
}


def statements(webhook_url: str, audit_file: Path) -> list[str]:
    """CREATE/ALTER statements for the six subscriptions, in order. The audit log is written
    to `audit_file.name` in the connection's log directory (the caller sets conn.log_dir to
    the file's folder)."""
    return [
        SEED_SUBSCRIPTION.read_text(),
        f"""ALTER EVENT_SUBSCRIPTION user_service_events SET (
  deliver_to = 'handler:personalization',{BUSINESS_COLUMNS})""",
        f"""CREATE EVENT_SUBSCRIPTION user_auth_events AS (
  service_name = 'authentication_service',
  watch_collections = JSON_ARRAY('users'),
  event_types = JSON_ARRAY('insert', 'update'),
  -- the seed's JavaScript pipeline: new users, and updates that touch lastLogin
  event_filter = JSON_OBJECT('$or', JSON_ARRAY(
    JSON_OBJECT('operationType', 'insert'),
    JSON_OBJECT('operationType', 'update',
                'updateDescription.updatedFields.lastLogin', JSON_OBJECT('$exists', TRUE)))),
  deliver_to = 'handler:auth',{BUSINESS_COLUMNS})""",
        f"""CREATE EVENT_SUBSCRIPTION inventory_management AS (
  service_name = 'inventory_service',
  watch_collections = JSON_ARRAY('orders'),
  event_types = JSON_ARRAY('insert', 'update'),
  batch_processing = TRUE,
  batch_size = 10,
  -- the inventory service's local copy of the orders (a read model)
  deliver_to = 'collection:inventory_order_copies',{BUSINESS_COLUMNS})""",
        f"""CREATE EVENT_SUBSCRIPTION realtime_analytics AS (
  service_name = 'analytics_service',
  watch_collections = JSON_ARRAY('orders', 'products', 'users'),
  event_types = JSON_ARRAY('insert', 'update', 'delete'),
  full_document_before_change = 'whenAvailable',
  deliver_to = '{webhook_url}',
  -- the showcase's webhook listens on 127.0.0.1: loopback must be allowed explicitly
  allow_private_network = TRUE,{BUSINESS_COLUMNS})""",
        f"""CREATE EVENT_SUBSCRIPTION notification_service AS (
  service_name = 'notification_service',
  watch_collections = JSON_ARRAY('orders'),
  event_types = JSON_ARRAY('insert', 'update'),
  deliver_to = 'handler:notifier',
  {FAST_RETRIES},{BUSINESS_COLUMNS})""",
        f"""CREATE EVENT_SUBSCRIPTION audit_logging AS (
  service_name = 'audit_service',
  watch_collections = JSON_ARRAY('users', 'user_profiles', 'user_preferences',
                                 'orders', 'products', 'inventory'),
  event_types = JSON_ARRAY('insert', 'update', 'delete'),
  full_document_before_change = 'whenAvailable',
  preserve_order = FALSE,
  deliver_to = 'log:{audit_file.name}',{BUSINESS_COLUMNS})""",
    ]
