-- The microservices showcase in SQL: the seed's subscriptions, a small workload, and the
-- seed's monitoring, correlation and dashboard statements over the event log.
--
--   queryleaf examples/microservices/showcase.sql     (make demo-sql)
--
-- or paste it into the shell (`queryleaf`) statement by statement. Pure SQL has no Python
-- handlers, so the services deliver to collections (read models), a log file and a webhook.
-- The Python version (showcase.py, `make demo`) adds handlers and a larger generated workload.

-- 1. Subscriptions ---------------------------------------------------------------------------

-- QueryLeaf event-driven microservices with SQL-familiar syntax
-- Create event subscription with comprehensive configuration
CREATE EVENT_SUBSCRIPTION user_service_events AS (
-- Subscription identification
subscription_id = 'user_lifecycle_events',
service_name = 'user_service',
-- Event source configuration
watch_collections = JSON_ARRAY('users', 'user_profiles', 'user_preferences'),
event_types = JSON_ARRAY('insert', 'update', 'delete'),
-- Advanced event filtering with SQL-style conditions
event_filter = JSON_OBJECT(
'operationType', JSON_OBJECT('$in', JSON_ARRAY('insert', 'update')),
'$or', JSON_ARRAY(
JSON_OBJECT('operationType', 'insert'),
JSON_OBJECT(
'operationType', 'update',
'updateDescription.updatedFields', JSON_OBJECT(
'$or', JSON_ARRAY(
JSON_OBJECT('email', JSON_OBJECT('$exists', true)),
JSON_OBJECT('status', JSON_OBJECT('$exists', true)),
JSON_OBJECT('subscription_tier', JSON_OBJECT('$exists', true))
)
)
)
)
),
-- Event processing configuration
batch_processing = false,
preserve_order = true,
full_document = 'updateLookup',
full_document_before_change = 'whenAvailable',
-- Error handling and retry policy
max_retry_attempts = 3,
retry_delay_ms = 1000,
exponential_backoff = true,
dead_letter_queue_enabled = true,
-- Performance settings
batch_size = 100,
processing_timeout_ms = 30000,
-- Subscription metadata
created_by = 'user_service_admin',
description = 'User lifecycle events for authentication and personalization services'
);

-- The seed names no target (so it would print every event on stdout): keep a read model of
-- the user documents instead, and name where the business columns come from.
ALTER EVENT_SUBSCRIPTION user_service_events SET (
  deliver_to = 'collection:user_directory',
  correlation_id_field = 'event_meta.correlation_id',
  business_process_id_field = 'event_meta.business_process_id',
  source_service_field = 'event_meta.source_service',
  target_service_field = 'event_meta.target_service',
  interaction_type_field = 'event_meta.interaction_type'
);

CREATE EVENT_SUBSCRIPTION user_auth_events AS (
  service_name = 'authentication_service',
  watch_collections = JSON_ARRAY('users'),
  event_types = JSON_ARRAY('insert', 'update'),
  event_filter = JSON_OBJECT('$or', JSON_ARRAY(
    JSON_OBJECT('operationType', 'insert'),
    JSON_OBJECT('operationType', 'update',
                'updateDescription.updatedFields.lastLogin', JSON_OBJECT('$exists', TRUE)))),
  deliver_to = 'log:queryleaf-showcase-auth.ndjson',  -- in ./queryleaf-logs
  correlation_id_field = 'event_meta.correlation_id',
  business_process_id_field = 'event_meta.business_process_id',
  source_service_field = 'event_meta.source_service',
  target_service_field = 'event_meta.target_service',
  interaction_type_field = 'event_meta.interaction_type'
);

CREATE EVENT_SUBSCRIPTION inventory_management AS (
  service_name = 'inventory_service',
  watch_collections = JSON_ARRAY('orders'),
  event_types = JSON_ARRAY('insert', 'update'),
  batch_processing = TRUE,
  batch_size = 10,
  deliver_to = 'collection:inventory_order_copies',
  correlation_id_field = 'event_meta.correlation_id',
  business_process_id_field = 'event_meta.business_process_id',
  source_service_field = 'event_meta.source_service',
  target_service_field = 'event_meta.target_service',
  interaction_type_field = 'event_meta.interaction_type'
);

CREATE EVENT_SUBSCRIPTION realtime_analytics AS (
  service_name = 'analytics_service',
  watch_collections = JSON_ARRAY('orders', 'products', 'users'),
  event_types = JSON_ARRAY('insert', 'update', 'delete'),
  deliver_to = 'collection:analytics_feed',
  correlation_id_field = 'event_meta.correlation_id',
  business_process_id_field = 'event_meta.business_process_id',
  source_service_field = 'event_meta.source_service',
  target_service_field = 'event_meta.target_service',
  interaction_type_field = 'event_meta.interaction_type'
);

-- The notification gateway is down: nothing listens on port 9, so each delivery fails, is
-- retried once after a second and becomes a dead letter. Only new orders of 100 or more are
-- notified.
CREATE EVENT_SUBSCRIPTION notification_service AS (
  service_name = 'notification_service',
  watch_collections = JSON_ARRAY('orders'),
  event_types = JSON_ARRAY('insert'),
  event_filter = 'event_data.order_total >= 100',
  deliver_to = 'http://127.0.0.1:9/notify',
  allow_private_network = TRUE,  -- loopback is refused unless allowed
  max_retry_attempts = 1, retry_delay_ms = 1000, exponential_backoff = FALSE,
  correlation_id_field = 'event_meta.correlation_id',
  business_process_id_field = 'event_meta.business_process_id',
  source_service_field = 'event_meta.source_service',
  target_service_field = 'event_meta.target_service',
  interaction_type_field = 'event_meta.interaction_type'
);

CREATE EVENT_SUBSCRIPTION audit_logging AS (
  service_name = 'audit_service',
  watch_collections = JSON_ARRAY('users', 'user_profiles', 'user_preferences',
                                 'orders', 'products', 'inventory'),
  event_types = JSON_ARRAY('insert', 'update', 'delete'),
  preserve_order = FALSE,
  deliver_to = 'log:queryleaf-showcase-audit.ndjson',  -- in ./queryleaf-logs
  correlation_id_field = 'event_meta.correlation_id',
  business_process_id_field = 'event_meta.business_process_id',
  source_service_field = 'event_meta.source_service',
  target_service_field = 'event_meta.target_service',
  interaction_type_field = 'event_meta.interaction_type'
);

SELECT name, subscription_id, service_name, deliver_to FROM EVENT_SUBSCRIPTIONS() ORDER BY name;

START EVENT_SUBSCRIPTION user_service_events;
START EVENT_SUBSCRIPTION user_auth_events;
START EVENT_SUBSCRIPTION inventory_management;
START EVENT_SUBSCRIPTION realtime_analytics;
START EVENT_SUBSCRIPTION notification_service;
START EVENT_SUBSCRIPTION audit_logging;

-- 2. The workload ----------------------------------------------------------------------------
-- Every write sets event_meta: one correlation_id and business_process_id per process.

-- catalog: products and their stock
INSERT INTO products (_id, sku, name, category, price, attributes, event_meta) VALUES
  ('prod-001', 'AUD-0001', 'pro headphones', 'audio', 129.0, JSON_OBJECT('tags', JSON_ARRAY('new')),
   JSON_OBJECT('correlation_id', 'cat-001', 'business_process_id', 'catalog-001', 'source_service', 'catalog_admin', 'target_service', 'catalog_service', 'interaction_type', 'add_product'));
INSERT INTO inventory (_id, product_id, warehouse, on_hand, reserved, event_meta) VALUES
  ('inv-prod-001', 'prod-001', 'north', 40, 0, JSON_OBJECT('correlation_id', 'cat-001', 'business_process_id', 'catalog-001', 'source_service', 'catalog_service', 'target_service', 'inventory_service', 'interaction_type', 'stock_in'));
INSERT INTO products (_id, sku, name, category, price, attributes, event_meta) VALUES
  ('prod-002', 'HOM-0002', 'eco kettle', 'home', 39.5, JSON_OBJECT('tags', JSON_ARRAY('new')),
   JSON_OBJECT('correlation_id', 'cat-002', 'business_process_id', 'catalog-002', 'source_service', 'catalog_admin', 'target_service', 'catalog_service', 'interaction_type', 'add_product'));
INSERT INTO inventory (_id, product_id, warehouse, on_hand, reserved, event_meta) VALUES
  ('inv-prod-002', 'prod-002', 'north', 25, 0, JSON_OBJECT('correlation_id', 'cat-002', 'business_process_id', 'catalog-002', 'source_service', 'catalog_service', 'target_service', 'inventory_service', 'interaction_type', 'stock_in'));
INSERT INTO products (_id, sku, name, category, price, attributes, event_meta) VALUES
  ('prod-003', 'OFF-0003', 'travel keyboard', 'office', 74.9, JSON_OBJECT('tags', JSON_ARRAY('new')),
   JSON_OBJECT('correlation_id', 'cat-003', 'business_process_id', 'catalog-003', 'source_service', 'catalog_admin', 'target_service', 'catalog_service', 'interaction_type', 'add_product'));
INSERT INTO inventory (_id, product_id, warehouse, on_hand, reserved, event_meta) VALUES
  ('inv-prod-003', 'prod-003', 'north', 30, 0, JSON_OBJECT('correlation_id', 'cat-003', 'business_process_id', 'catalog-003', 'source_service', 'catalog_service', 'target_service', 'inventory_service', 'interaction_type', 'stock_in'));

-- onboarding: a user, a profile and preferences per sign-up
INSERT INTO users (_id, email, name, status, subscription_tier, event_meta) VALUES
  ('user-001', 'ada@example.com', 'Ada', 'active', 'free',
   JSON_OBJECT('correlation_id', 'signup-001', 'business_process_id', 'onboarding-001', 'source_service', 'signup_web', 'target_service', 'user_service', 'interaction_type', 'register'));
INSERT INTO user_profiles (_id, user_id, address, interests, event_meta) VALUES
  ('profile-001', 'user-001', JSON_OBJECT('city', 'London'), JSON_ARRAY('chess', 'jazz'),
   JSON_OBJECT('correlation_id', 'signup-001', 'business_process_id', 'onboarding-001', 'source_service', 'user_service', 'target_service', 'profile_service', 'interaction_type', 'create_profile'));
INSERT INTO user_preferences (_id, user_id, notifications, language, event_meta) VALUES
  ('prefs-001', 'user-001', JSON_OBJECT('email', TRUE, 'sms', FALSE), 'en',
   JSON_OBJECT('correlation_id', 'signup-001', 'business_process_id', 'onboarding-001', 'source_service', 'user_service', 'target_service', 'preference_service', 'interaction_type', 'default_preferences'));
INSERT INTO users (_id, email, name, status, subscription_tier, event_meta) VALUES
  ('user-002', 'alan@example.com', 'Alan', 'active', 'free',
   JSON_OBJECT('correlation_id', 'signup-002', 'business_process_id', 'onboarding-002', 'source_service', 'signup_web', 'target_service', 'user_service', 'interaction_type', 'register'));
INSERT INTO user_profiles (_id, user_id, address, interests, event_meta) VALUES
  ('profile-002', 'user-002', JSON_OBJECT('city', 'Berlin'), JSON_ARRAY('chess', 'jazz'),
   JSON_OBJECT('correlation_id', 'signup-002', 'business_process_id', 'onboarding-002', 'source_service', 'user_service', 'target_service', 'profile_service', 'interaction_type', 'create_profile'));
INSERT INTO user_preferences (_id, user_id, notifications, language, event_meta) VALUES
  ('prefs-002', 'user-002', JSON_OBJECT('email', TRUE, 'sms', FALSE), 'en',
   JSON_OBJECT('correlation_id', 'signup-002', 'business_process_id', 'onboarding-002', 'source_service', 'user_service', 'target_service', 'preference_service', 'interaction_type', 'default_preferences'));
INSERT INTO users (_id, email, name, status, subscription_tier, event_meta) VALUES
  ('user-003', 'grace@example.com', 'Grace', 'active', 'free',
   JSON_OBJECT('correlation_id', 'signup-003', 'business_process_id', 'onboarding-003', 'source_service', 'signup_web', 'target_service', 'user_service', 'interaction_type', 'register'));
INSERT INTO user_profiles (_id, user_id, address, interests, event_meta) VALUES
  ('profile-003', 'user-003', JSON_OBJECT('city', 'Austin'), JSON_ARRAY('chess', 'jazz'),
   JSON_OBJECT('correlation_id', 'signup-003', 'business_process_id', 'onboarding-003', 'source_service', 'user_service', 'target_service', 'profile_service', 'interaction_type', 'create_profile'));
INSERT INTO user_preferences (_id, user_id, notifications, language, event_meta) VALUES
  ('prefs-003', 'user-003', JSON_OBJECT('email', TRUE, 'sms', FALSE), 'en',
   JSON_OBJECT('correlation_id', 'signup-003', 'business_process_id', 'onboarding-003', 'source_service', 'user_service', 'target_service', 'preference_service', 'interaction_type', 'default_preferences'));

-- order fulfilment: order placed -> stock reserved -> order confirmed (one correlation id)
INSERT INTO orders (_id, order_seq, user_id, status, line_items, order_total, event_meta) VALUES
  ('order-0001', 1, 'user-001', 'pending', JSON_ARRAY(JSON_OBJECT('product_id', 'prod-001', 'quantity', 1, 'unit_price', 129.0), JSON_OBJECT('product_id', 'prod-002', 'quantity', 2, 'unit_price', 39.5)), 208.0,
   JSON_OBJECT('correlation_id', 'order-flow-001', 'business_process_id', 'fulfilment-0001', 'source_service', 'storefront', 'target_service', 'order_service', 'interaction_type', 'place_order'));
UPDATE inventory SET on_hand = on_hand - 1, reserved = reserved + 1,
    `event_meta.correlation_id` = 'order-flow-001', `event_meta.business_process_id` = 'fulfilment-0001',
    `event_meta.source_service` = 'order_service', `event_meta.target_service` = 'inventory_service',
    `event_meta.interaction_type` = 'reserve_stock'
  WHERE _id = 'inv-prod-001';
UPDATE inventory SET on_hand = on_hand - 2, reserved = reserved + 2,
    `event_meta.correlation_id` = 'order-flow-001', `event_meta.business_process_id` = 'fulfilment-0001',
    `event_meta.source_service` = 'order_service', `event_meta.target_service` = 'inventory_service',
    `event_meta.interaction_type` = 'reserve_stock'
  WHERE _id = 'inv-prod-002';
UPDATE orders SET status = 'confirmed',
    `event_meta.correlation_id` = 'order-flow-001', `event_meta.business_process_id` = 'fulfilment-0001',
    `event_meta.source_service` = 'inventory_service', `event_meta.target_service` = 'order_service',
    `event_meta.interaction_type` = 'confirm_order'
  WHERE _id = 'order-0001';
INSERT INTO orders (_id, order_seq, user_id, status, line_items, order_total, event_meta) VALUES
  ('order-0002', 2, 'user-002', 'pending', JSON_ARRAY(JSON_OBJECT('product_id', 'prod-003', 'quantity', 1, 'unit_price', 74.9)), 74.9,
   JSON_OBJECT('correlation_id', 'order-flow-002', 'business_process_id', 'fulfilment-0002', 'source_service', 'storefront', 'target_service', 'order_service', 'interaction_type', 'place_order'));
UPDATE inventory SET on_hand = on_hand - 1, reserved = reserved + 1,
    `event_meta.correlation_id` = 'order-flow-002', `event_meta.business_process_id` = 'fulfilment-0002',
    `event_meta.source_service` = 'order_service', `event_meta.target_service` = 'inventory_service',
    `event_meta.interaction_type` = 'reserve_stock'
  WHERE _id = 'inv-prod-003';
UPDATE orders SET status = 'confirmed',
    `event_meta.correlation_id` = 'order-flow-002', `event_meta.business_process_id` = 'fulfilment-0002',
    `event_meta.source_service` = 'inventory_service', `event_meta.target_service` = 'order_service',
    `event_meta.interaction_type` = 'confirm_order'
  WHERE _id = 'order-0002';
INSERT INTO orders (_id, order_seq, user_id, status, line_items, order_total, event_meta) VALUES
  ('order-0003', 3, 'user-003', 'pending', JSON_ARRAY(JSON_OBJECT('product_id', 'prod-001', 'quantity', 2, 'unit_price', 129.0)), 258.0,
   JSON_OBJECT('correlation_id', 'order-flow-003', 'business_process_id', 'fulfilment-0003', 'source_service', 'storefront', 'target_service', 'order_service', 'interaction_type', 'place_order'));
UPDATE inventory SET on_hand = on_hand - 2, reserved = reserved + 2,
    `event_meta.correlation_id` = 'order-flow-003', `event_meta.business_process_id` = 'fulfilment-0003',
    `event_meta.source_service` = 'order_service', `event_meta.target_service` = 'inventory_service',
    `event_meta.interaction_type` = 'reserve_stock'
  WHERE _id = 'inv-prod-001';
UPDATE orders SET status = 'confirmed',
    `event_meta.correlation_id` = 'order-flow-003', `event_meta.business_process_id` = 'fulfilment-0003',
    `event_meta.source_service` = 'inventory_service', `event_meta.target_service` = 'order_service',
    `event_meta.interaction_type` = 'confirm_order'
  WHERE _id = 'order-0003';

-- activity: a login, an email change, an account closure
UPDATE users SET lastLogin = NOW(),
    `event_meta.correlation_id` = 'login-001', `event_meta.business_process_id` = 'session-001',
    `event_meta.source_service` = 'auth_web', `event_meta.target_service` = 'authentication_service',
    `event_meta.interaction_type` = 'login'
  WHERE _id = 'user-001';
UPDATE users SET email = 'alan@example.org',
    `event_meta.correlation_id` = 'account-001', `event_meta.business_process_id` = 'account-001',
    `event_meta.source_service` = 'account_web', `event_meta.target_service` = 'user_service',
    `event_meta.interaction_type` = 'change_email'
  WHERE _id = 'user-002';
DELETE FROM user_preferences WHERE _id = 'prefs-003';

-- Watch the notification failures arrive, live: each big order's notification is refused,
-- retried once a second later, refused again and dead-lettered. The query ends when both
-- dead letters have arrived, about two seconds from now; the other services deliver in
-- milliseconds, so they are done by then. (The shell has no sleep statement: this is the
-- script's pause. Typed in the interactive shell after the letters arrived, end it with
-- Ctrl-C.)
SELECT event_data.event.documentKey._id AS order_id, event_data.attempts AS attempts,
       event_data.error AS error
FROM CHANGE_STREAM_EVENTS('dead_letter_events') EMIT CHANGES LIMIT 2;

-- 3. What was delivered ----------------------------------------------------------------------

SELECT name, events_received, events_delivered, events_retried, events_dead_lettered,
       delivery_latency_p50_ms, delivery_latency_p99_ms
FROM EVENT_SUBSCRIPTIONS() ORDER BY name;

-- The read model the inventory service keeps: the same orders.
SELECT _id, status, order_total FROM inventory_order_copies ORDER BY _id;

-- The notification gateway's failures.
SELECT event.documentKey._id AS order_id, attempts, error FROM DEAD_LETTER_EVENTS()
ORDER BY order_id;

-- 4. The seed's monitoring query ---------------------------------------------------------------
-- Verbatim (seed/monitoring_query.sql) it stops with
--   [QL315] event_stream_metrics has no column event_timestamp
-- because its second CTE reads event-log columns from the first, which exposes only its
-- select list. A script stops at its first error, so only the corrected version runs here
-- (monitoring_query_corrected.sql; its CORRECTED comment says what differs).
-- Its result has 22 columns: in the interactive shell, `\x on` shows each row as a list.

-- Monitor event processing with real-time analytics
-- The seed's monitoring query (seed/monitoring_query.sql), corrected: only the
-- processing_performance CTE differs; see the CORRECTED comment there.
WITH event_stream_metrics AS (
SELECT
subscription_id,
service_name,
-- Event volume metrics
COUNT(*) as total_events_received,
COUNT(CASE WHEN processing_status = 'completed' THEN 1 END) as events_processed,
COUNT(CASE WHEN processing_status = 'failed' THEN 1 END) as events_failed,
COUNT(CASE WHEN processing_status = 'retrying' THEN 1 END) as events_retrying,
-- Processing performance
AVG(processing_duration_ms) as avg_processing_time_ms,
MAX(processing_duration_ms) as max_processing_time_ms,
MIN(processing_duration_ms) as min_processing_time_ms,
-- Event type distribution
COUNT(CASE WHEN event_type = 'insert' THEN 1 END) as insert_events,
COUNT(CASE WHEN event_type = 'update' THEN 1 END) as update_events,
COUNT(CASE WHEN event_type = 'delete' THEN 1 END) as delete_events,
-- Collection distribution
COUNT(CASE WHEN collection_name = 'users' THEN 1 END) as user_events,
COUNT(CASE WHEN collection_name = 'user_profiles' THEN 1 END) as profile_events,
COUNT(CASE WHEN collection_name = 'user_preferences' THEN 1 END) as preference_events,
-- Time-based analysis
DATE_FORMAT(event_timestamp, '%Y-%m-%d %H:00:00') as hour_bucket,
COUNT(*) as hourly_event_count,
-- Success rate calculation
ROUND(
(COUNT(CASE WHEN processing_status = 'completed' THEN 1 END) * 100.0) /
COUNT(*), 2
) as success_rate_percent
FROM CHANGE_STREAM_EVENTS()
WHERE event_timestamp >= DATE_SUB(NOW(), INTERVAL 24 HOUR)
AND subscription_id IN (
'user_lifecycle_events',
'inventory_management',
'realtime_analytics',
'notification_service',
'audit_logging'
)
GROUP BY
subscription_id,
service_name,
DATE_FORMAT(event_timestamp, '%Y-%m-%d %H:00:00')
),
-- Event processing lag and performance analysis
-- CORRECTED: this CTE reads the event log itself (CHANGE_STREAM_EVENTS(), with the same
-- WHERE as event_stream_metrics). The seed read it from event_stream_metrics, which exposes
-- only its select list: event_timestamp, processing_completed_at, retry_count,
-- resume_token_timestamp and processing_status are not columns of it (QL315). The health
-- CASE used success_rate_percent (neither grouped nor aggregated here) and
-- avg_processing_lag_ms (an alias of this same select list, which SQL cannot reference);
-- it now repeats the two expressions.
processing_performance AS (
SELECT
subscription_id,
-- Latency metrics
AVG(TIMESTAMPDIFF(MICROSECOND, event_timestamp, processing_completed_at) / 1000) as avg_processing_lag_ms,
MAX(TIMESTAMPDIFF(MICROSECOND, event_timestamp, processing_completed_at) / 1000) as max_processing_lag_ms,
-- Throughput calculations
COUNT(*) /
(TIMESTAMPDIFF(SECOND, MIN(event_timestamp), MAX(event_timestamp)) / 3600.0) as events_per_hour,
-- Error analysis
COUNT(CASE WHEN retry_count > 0 THEN 1 END) as events_requiring_retry,
AVG(retry_count) as avg_retry_count,
-- Resume token health
MAX(resume_token_timestamp) as latest_resume_token,
TIMESTAMPDIFF(SECOND, MAX(resume_token_timestamp), NOW()) as resume_token_lag_seconds,
-- Queue depth analysis
COUNT(CASE WHEN processing_status = 'queued' THEN 1 END) as current_queue_depth,
-- Service health indicators
CASE
WHEN (COUNT(CASE WHEN processing_status = 'completed' THEN 1 END) * 100.0) / COUNT(*) >= 99
AND AVG(TIMESTAMPDIFF(MICROSECOND, event_timestamp, processing_completed_at) / 1000) < 1000 THEN 'Excellent'
WHEN (COUNT(CASE WHEN processing_status = 'completed' THEN 1 END) * 100.0) / COUNT(*) >= 95
AND AVG(TIMESTAMPDIFF(MICROSECOND, event_timestamp, processing_completed_at) / 1000) < 5000 THEN 'Good'
WHEN (COUNT(CASE WHEN processing_status = 'completed' THEN 1 END) * 100.0) / COUNT(*) >= 90
AND AVG(TIMESTAMPDIFF(MICROSECOND, event_timestamp, processing_completed_at) / 1000) < 15000 THEN 'Fair'
ELSE 'Needs Attention'
END as service_health_status
FROM CHANGE_STREAM_EVENTS()
WHERE event_timestamp >= DATE_SUB(NOW(), INTERVAL 24 HOUR)
AND subscription_id IN (
'user_lifecycle_events',
'inventory_management',
'realtime_analytics',
'notification_service',
'audit_logging'
)
GROUP BY subscription_id
)
SELECT
esm.subscription_id,
esm.service_name,
esm.total_events_received,
esm.events_processed,
esm.success_rate_percent,
esm.avg_processing_time_ms,
-- Performance indicators
pp.avg_processing_lag_ms,
pp.events_per_hour,
pp.service_health_status,
-- Event distribution
esm.insert_events,
esm.update_events,
esm.delete_events,
-- Collection breakdown
esm.user_events,
esm.profile_events,
esm.preference_events,
-- Error and retry analysis
esm.events_failed,
pp.events_requiring_retry,
pp.avg_retry_count,
pp.current_queue_depth,
-- Real-time status
pp.resume_token_lag_seconds,
CASE
WHEN pp.resume_token_lag_seconds > 300 THEN 'Stream Lagging'
WHEN pp.current_queue_depth > 1000 THEN 'Queue Backlog'
WHEN esm.success_rate_percent < 95 THEN 'High Error Rate'
ELSE 'Healthy'
END as real_time_status,
-- Performance recommendations
CASE
WHEN pp.avg_processing_lag_ms > 10000 THEN 'Increase processing capacity'
WHEN pp.current_queue_depth > 500 THEN 'Enable batch processing'
WHEN esm.success_rate_percent < 90 THEN 'Review error handling'
WHEN pp.events_per_hour > 10000 THEN 'Consider partitioning'
ELSE 'Performance optimal'
END as optimization_recommendation
FROM event_stream_metrics esm
JOIN processing_performance pp ON esm.subscription_id = pp.subscription_id
ORDER BY esm.total_events_received DESC, esm.success_rate_percent ASC;

-- 5. The seed's event-correlation query, verbatim ---------------------------------------------

-- Advanced event correlation and business process tracking
WITH event_correlation AS (
SELECT
correlation_id,
business_process_id,
-- Process timeline tracking
MIN(event_timestamp) as process_start_time,
MAX(event_timestamp) as process_end_time,
TIMESTAMPDIFF(SECOND, MIN(event_timestamp), MAX(event_timestamp)) as process_duration_seconds,
-- Event sequence analysis
GROUP_CONCAT(
CONCAT(service_name, ':', event_type, ':', collection_name)
ORDER BY event_timestamp
SEPARATOR ' -> '
) as event_sequence,
COUNT(*) as total_events_in_process,
COUNT(DISTINCT service_name) as services_involved,
COUNT(DISTINCT collection_name) as collections_affected,
-- Process completion analysis
COUNT(CASE WHEN processing_status = 'completed' THEN 1 END) as completed_events,
COUNT(CASE WHEN processing_status = 'failed' THEN 1 END) as failed_events,
-- Business metrics
SUM(CAST(JSON_EXTRACT(event_data, '$.order_total') AS DECIMAL(10,2))) as total_order_value,
COUNT(CASE WHEN event_type = 'insert' AND collection_name = 'orders' THEN 1 END) as orders_created,
COUNT(CASE WHEN event_type = 'update' AND collection_name = 'inventory' THEN 1 END) as inventory_updates,
-- Process success indicators
CASE
WHEN COUNT(CASE WHEN processing_status = 'failed' THEN 1 END) = 0
AND COUNT(CASE WHEN processing_status = 'completed' THEN 1 END) = COUNT(*)
THEN 'Success'
WHEN COUNT(CASE WHEN processing_status = 'failed' THEN 1 END) > 0 THEN 'Failed'
ELSE 'In Progress'
END as process_status
FROM CHANGE_STREAM_EVENTS()
WHERE correlation_id IS NOT NULL
AND event_timestamp >= DATE_SUB(NOW(), INTERVAL 1 HOUR)
GROUP BY correlation_id, business_process_id
),
-- Service dependency and interaction analysis
service_interactions AS (
SELECT
source_service,
target_service,
interaction_type,
-- Interaction volume and frequency
COUNT(*) as interaction_count,
COUNT(*) / (TIMESTAMPDIFF(SECOND, MIN(event_timestamp), MAX(event_timestamp)) / 60.0) as interactions_per_minute,
-- Success and failure rates
COUNT(CASE WHEN processing_status = 'completed' THEN 1 END) as successful_interactions,
COUNT(CASE WHEN processing_status = 'failed' THEN 1 END) as failed_interactions,
ROUND(
(COUNT(CASE WHEN processing_status = 'completed' THEN 1 END) * 100.0) / COUNT(*), 2
) as interaction_success_rate,
-- Performance metrics
AVG(processing_duration_ms) as avg_interaction_time_ms,
MAX(processing_duration_ms) as max_interaction_time_ms,
-- Data volume analysis
AVG(LENGTH(event_data)) as avg_event_size_bytes,
SUM(LENGTH(event_data)) as total_data_transferred_bytes
FROM CHANGE_STREAM_EVENTS()
WHERE event_timestamp >= DATE_SUB(NOW(), INTERVAL 24 HOUR)
AND source_service IS NOT NULL
AND target_service IS NOT NULL
GROUP BY source_service, target_service, interaction_type
)
SELECT
-- Process correlation summary
'BUSINESS_PROCESSES' as section,
JSON_OBJECT(
'total_processes', COUNT(*),
'successful_processes', COUNT(CASE WHEN process_status = 'Success' THEN 1 END),
'failed_processes', COUNT(CASE WHEN process_status = 'Failed' THEN 1 END),
'in_progress_processes', COUNT(CASE WHEN process_status = 'In Progress' THEN 1 END),
'avg_process_duration_seconds', AVG(process_duration_seconds),
'total_business_value', SUM(total_order_value),
'top_processes', JSON_ARRAYAGG(
JSON_OBJECT(
'correlation_id', correlation_id,
'duration_seconds', process_duration_seconds,
'services_involved', services_involved,
'event_sequence', event_sequence,
'status', process_status
) LIMIT 10
)
) as process_analytics
FROM event_correlation
UNION ALL
SELECT
-- Service interaction summary
'SERVICE_INTERACTIONS' as section,
JSON_OBJECT(
'total_interactions', SUM(interaction_count),
'service_pairs', COUNT(*),
'avg_success_rate', AVG(interaction_success_rate),
'total_data_transferred_mb', SUM(total_data_transferred_bytes) / 1024 / 1024,
'interaction_details', JSON_ARRAYAGG(
JSON_OBJECT(
'source_service', source_service,
'target_service', target_service,
'interaction_count', interaction_count,
'success_rate', interaction_success_rate,
'avg_time_ms', avg_interaction_time_ms
)
)
) as interaction_analytics
FROM service_interactions;

-- 6. The seed's dashboard view, verbatim ------------------------------------------------------
-- It reads event_stream_metrics, a CTE of the monitoring query; without a relation of that
-- name its service_health_summary is NULL (EXPLAIN warns that the collection does not exist).

-- Real-time event stream monitoring dashboard
CREATE VIEW microservices_event_dashboard AS
SELECT
-- Current system status
(SELECT COUNT(*) FROM ACTIVE_CHANGE_STREAMS()) as active_streams,
(SELECT COUNT(*) FROM EVENT_SUBSCRIPTIONS() WHERE status = 'active') as active_subscriptions,
(SELECT COUNT(*) FROM CHANGE_STREAM_EVENTS() WHERE event_timestamp >= DATE_SUB(NOW(), INTERVAL 1 MINUTE)) as events_per_minute,
-- Processing queue status
(SELECT COUNT(*) FROM CHANGE_STREAM_EVENTS() WHERE processing_status = 'queued') as queued_events,
(SELECT COUNT(*) FROM CHANGE_STREAM_EVENTS() WHERE processing_status = 'processing') as processing_events,
(SELECT COUNT(*) FROM CHANGE_STREAM_EVENTS() WHERE processing_status = 'retrying') as retrying_events,
-- Error indicators
(SELECT COUNT(*) FROM CHANGE_STREAM_EVENTS()
WHERE processing_status = 'failed' AND event_timestamp >= DATE_SUB(NOW(), INTERVAL 1 HOUR)) as errors_last_hour,
(SELECT COUNT(*) FROM DEAD_LETTER_EVENTS()
WHERE created_at >= DATE_SUB(NOW(), INTERVAL 1 HOUR)) as dead_letter_events_hour,
-- Performance indicators
(SELECT AVG(processing_duration_ms) FROM CHANGE_STREAM_EVENTS()
WHERE processing_status = 'completed' AND event_timestamp >= DATE_SUB(NOW(), INTERVAL 5 MINUTE)) as avg_processing_time_5min,
(SELECT MAX(resume_token_lag_seconds) FROM EVENT_SUBSCRIPTIONS()) as max_resume_token_lag,
-- Service health summary
(SELECT
JSON_ARRAYAGG(
JSON_OBJECT(
'service_name', service_name,
'subscription_count', subscription_count,
'success_rate', success_rate,
'health_status', health_status
)
)
FROM (
SELECT
service_name,
COUNT(*) as subscription_count,
AVG(success_rate_percent) as success_rate,
CASE
WHEN AVG(success_rate_percent) >= 99 THEN 'Excellent'
WHEN AVG(success_rate_percent) >= 95 THEN 'Good'
WHEN AVG(success_rate_percent) >= 90 THEN 'Warning'
ELSE 'Critical'
END as health_status
FROM event_stream_metrics
GROUP BY service_name
) service_health
) as service_health_summary,
-- System health assessment
CASE
WHEN (SELECT COUNT(*) FROM CHANGE_STREAM_EVENTS() WHERE processing_status = 'failed'
AND event_timestamp >= DATE_SUB(NOW(), INTERVAL 5 MINUTE)) > 100 THEN 'Critical'
WHEN (SELECT MAX(resume_token_lag_seconds) FROM EVENT_SUBSCRIPTIONS()) > 300 THEN 'Warning'
WHEN (SELECT AVG(processing_duration_ms) FROM CHANGE_STREAM_EVENTS()
WHERE event_timestamp >= DATE_SUB(NOW(), INTERVAL 5 MINUTE)) > 5000 THEN 'Degraded'
ELSE 'Healthy'
END as overall_system_health,
NOW() as dashboard_timestamp;

-- The fix for the seed's dashboard view (seed/dashboard_view.sql), which reads
-- event_stream_metrics: in the seed that name is a CTE of the monitoring query, visible only
-- inside that statement, so the dashboard's service-health subquery reads a collection that
-- does not exist (queryleaf warns) and yields NULL. This view is that CTE, verbatim, as a
-- relation of its own; with it the dashboard view runs unchanged.
CREATE VIEW event_stream_metrics AS
SELECT
subscription_id,
service_name,
-- Event volume metrics
COUNT(*) as total_events_received,
COUNT(CASE WHEN processing_status = 'completed' THEN 1 END) as events_processed,
COUNT(CASE WHEN processing_status = 'failed' THEN 1 END) as events_failed,
COUNT(CASE WHEN processing_status = 'retrying' THEN 1 END) as events_retrying,
-- Processing performance
AVG(processing_duration_ms) as avg_processing_time_ms,
MAX(processing_duration_ms) as max_processing_time_ms,
MIN(processing_duration_ms) as min_processing_time_ms,
-- Event type distribution
COUNT(CASE WHEN event_type = 'insert' THEN 1 END) as insert_events,
COUNT(CASE WHEN event_type = 'update' THEN 1 END) as update_events,
COUNT(CASE WHEN event_type = 'delete' THEN 1 END) as delete_events,
-- Collection distribution
COUNT(CASE WHEN collection_name = 'users' THEN 1 END) as user_events,
COUNT(CASE WHEN collection_name = 'user_profiles' THEN 1 END) as profile_events,
COUNT(CASE WHEN collection_name = 'user_preferences' THEN 1 END) as preference_events,
-- Time-based analysis
DATE_FORMAT(event_timestamp, '%Y-%m-%d %H:00:00') as hour_bucket,
COUNT(*) as hourly_event_count,
-- Success rate calculation
ROUND(
(COUNT(CASE WHEN processing_status = 'completed' THEN 1 END) * 100.0) /
COUNT(*), 2
) as success_rate_percent
FROM CHANGE_STREAM_EVENTS()
WHERE event_timestamp >= DATE_SUB(NOW(), INTERVAL 24 HOUR)
AND subscription_id IN (
'user_lifecycle_events',
'inventory_management',
'realtime_analytics',
'notification_service',
'audit_logging'
)
GROUP BY
subscription_id,
service_name,
DATE_FORMAT(event_timestamp, '%Y-%m-%d %H:00:00');

SELECT * FROM microservices_event_dashboard;

-- 7. The gateway is back: deliver the dead letters to where notifications now go ----------------

ALTER EVENT_SUBSCRIPTION notification_service SET (deliver_to = 'collection:notifications_sent');
REPLAY DEAD_LETTER_EVENTS FOR notification_service;
SELECT _id, order_total FROM notifications_sent ORDER BY _id;
SELECT name, events_delivered, events_dead_lettered, events_replayed
FROM EVENT_SUBSCRIPTIONS() WHERE name = 'notification_service';
