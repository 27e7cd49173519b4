-- The microservices showcase in SQL: the seed's subscriptions, a small workload, and the
-- seed's monitoring, correlation and dashboard statements over the event log.
--
--   queryleaf examples/microservices/showcase.sql     (make demo-sql)
--
-- or run `\i examples/microservices/showcase.sql` in the shell (`queryleaf`). The seed's
-- statements are included from their files (`\ir FILE` reads FILE beside this script, `\i FILE`
-- from the working directory) rather than repeated here. Pure SQL has no Python
-- handlers, so the services deliver to collections (read models), a log file and a webhook.
-- The Python version (showcase.py, `make demo`) adds handlers and a larger generated workload.

-- 1. Subscriptions ---------------------------------------------------------------------------

\ir seed/user_service_events.sql

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
  deliver_to = 'log:/tmp/queryleaf-showcase-auth.ndjson',
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
  deliver_to = 'log:/tmp/queryleaf-showcase-audit.ndjson',
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

\ir monitoring_query_corrected.sql

-- 5. The seed's event-correlation query, verbatim ---------------------------------------------

\ir seed/correlation_query.sql

-- 6. The seed's dashboard view, verbatim ------------------------------------------------------
-- It reads event_stream_metrics, a CTE of the monitoring query; without a relation of that
-- name its service_health_summary is NULL (EXPLAIN warns that the collection does not exist).

\ir seed/dashboard_view.sql

\ir event_stream_metrics_view.sql

SELECT * FROM microservices_event_dashboard;

-- 7. The gateway is back: deliver the dead letters to where notifications now go ----------------

ALTER EVENT_SUBSCRIPTION notification_service SET (deliver_to = 'collection:notifications_sent');
REPLAY DEAD_LETTER_EVENTS FOR notification_service;
SELECT _id, order_total FROM notifications_sent ORDER BY _id;
SELECT name, events_delivered, events_dead_lettered, events_replayed
FROM EVENT_SUBSCRIPTIONS() WHERE name = 'notification_service';
