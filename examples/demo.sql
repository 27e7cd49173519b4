-- queryleaf demo: a small shop on the embedded engine.
-- Run it with `make demo`, or `queryleaf examples/demo.sql`.

INSERT INTO users (_id, name, age, `address.city`, tags) VALUES
  (1, 'ada', 36, 'London', JSON_ARRAY('admin', 'dev')),
  (2, 'alan', 41, 'Wilmslow', JSON_ARRAY('dev')),
  (3, 'grace', NULL, 'New York', JSON_ARRAY()),
  (4, 'linus', 28, NULL, JSON_ARRAY('dev'));

INSERT INTO orders (_id, user_id, total, status, items) VALUES
  (101, 1, 25.5, 'shipped', JSON_ARRAY(JSON_OBJECT('sku', 'A1', 'qty', 2))),
  (102, 1, 10, 'pending', JSON_ARRAY(JSON_OBJECT('sku', 'C3', 'qty', 5))),
  (103, 2, 99.99, 'shipped', JSON_ARRAY()),
  (104, 9, 5, 'cancelled', NULL);

-- Nested paths and NULL semantics: age != 36 leaves out grace, whose age is NULL.
SELECT name, address.city, age FROM users WHERE age != 36 ORDER BY name;

-- Joins mean what SQL means: LEFT keeps users without orders.
SELECT u.name, o._id AS order_id, o.items[0].sku AS first_sku
FROM users u LEFT JOIN orders o ON o.user_id = u._id
ORDER BY u._id, order_id;

-- Grouping, HAVING and expressions, all in one aggregation pipeline.
SELECT status, COUNT(*) AS orders, ROUND(SUM(total), 2) AS revenue
FROM orders GROUP BY status HAVING COUNT(*) >= 1 ORDER BY revenue DESC;

-- Writes: expressions run as an update pipeline inside MongoDB.
UPDATE orders SET total = total * 1.1, status = UPPER(status) WHERE status = 'pending';
SELECT _id, total, status FROM orders WHERE _id = 102;

-- EXPLAIN shows the exact MongoDB command without running it.
EXPLAIN SELECT u.name, COUNT(o._id) AS n FROM users u LEFT JOIN orders o ON o.user_id = u._id
GROUP BY u.name HAVING COUNT(o._id) > 0;

-- A CTE, a correlated subquery and a window function: still one pipeline.
WITH spend AS (SELECT user_id, SUM(total) AS spent FROM orders GROUP BY user_id)
SELECT u.name,
       s.spent,
       RANK() OVER (ORDER BY s.spent DESC) AS spend_rank,
       (SELECT COUNT(*) FROM orders o WHERE o.user_id = u._id) AS orders
FROM users u JOIN spend s ON s.user_id = u._id
ORDER BY spend_rank;

-- Dates and JSON: DATE_FORMAT, JSON_OBJECT, GROUP_CONCAT.
SELECT status,
       GROUP_CONCAT(_id ORDER BY _id SEPARATOR ', ') AS order_ids,
       JSON_OBJECT('count', COUNT(*), 'largest', MAX(total)) AS summary
FROM orders GROUP BY status ORDER BY status;

-- Change streams in SQL: a subscription, checked and compiled to a $changeStream pipeline.
CREATE EVENT_SUBSCRIPTION order_events AS (
  service_name = 'billing',
  watch_collections = JSON_ARRAY('orders'),
  event_types = JSON_ARRAY('insert', 'update'),
  event_filter = 'event_data.total > 20',
  deliver_to = 'collection:order_copies'
);
EXPLAIN EVENT_SUBSCRIPTION order_events;
SELECT name, service_name, status, watch_collections FROM EVENT_SUBSCRIPTIONS();
