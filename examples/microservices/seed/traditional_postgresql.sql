-- Traditional PostgreSQL event processing - complex and unreliable approaches
-- Basic event log table (limited capabilities)
CREATE TABLE service_events (
event_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
service_name VARCHAR(100) NOT NULL,
event_type VARCHAR(100) NOT NULL,
entity_id UUID NOT NULL,
entity_type VARCHAR(100) NOT NULL,
-- Event data (limited structure)
event_data JSONB NOT NULL,
event_metadata JSONB,
-- Processing tracking (manual management)
event_timestamp TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
processing_status VARCHAR(50) DEFAULT 'pending', -- pending, processing, completed, failed
processed_by VARCHAR(100),
processed_at TIMESTAMP,
-- Retry management (basic implementation)
retry_count INTEGER DEFAULT 0,
max_retries INTEGER DEFAULT 3,
next_retry_at TIMESTAMP,
-- Ordering and partitioning
sequence_number BIGINT,
partition_key VARCHAR(100),
-- Audit fields
created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
-- Event subscriptions table (manual subscription management)
CREATE TABLE event_subscriptions (
subscription_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
service_name VARCHAR(100) NOT NULL,
event_type VARCHAR(100) NOT NULL,
entity_type VARCHAR(100),
-- Subscription configuration
filter_conditions JSONB, -- Basic filtering capabilities
delivery_endpoint VARCHAR(500) NOT NULL,
delivery_method VARCHAR(50) DEFAULT 'webhook', -- webhook, queue, database
-- Processing configuration
batch_size INTEGER DEFAULT 1,
max_delivery_attempts INTEGER DEFAULT 3,
delivery_timeout_seconds INTEGER DEFAULT 30,
-- Subscription status
subscription_status VARCHAR(50) DEFAULT 'active', -- active, paused, disabled
last_processed_event_id UUID,
last_processing_error TEXT,
-- Subscription metadata
created_by VARCHAR(100) NOT NULL,
created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
-- Event processing queue (complex state management)
CREATE TABLE event_processing_queue (
queue_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
subscription_id UUID NOT NULL REFERENCES event_subscriptions(subscription_id),
event_id UUID NOT NULL REFERENCES service_events(event_id),
-- Processing state
queue_status VARCHAR(50) DEFAULT 'queued', -- queued, processing, completed, failed, dead_letter
processing_attempts INTEGER DEFAULT 0,
-- Timing information
queued_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
processing_started_at TIMESTAMP,
processing_completed_at TIMESTAMP,
next_attempt_at TIMESTAMP,
-- Error tracking
last_error_message TEXT,
last_error_details JSONB,
-- Processing metadata
processing_node VARCHAR(100),
processing_duration_ms INTEGER,
UNIQUE (subscription_id, event_id)
);
-- Complex stored procedure for event processing (error-prone and limited)
CREATE OR REPLACE FUNCTION process_pending_events()
RETURNS TABLE (
events_processed INTEGER,
events_failed INTEGER,
processing_duration_seconds INTEGER
) AS $$
DECLARE
event_record RECORD;
subscription_record RECORD;
processing_start TIMESTAMP := clock_timestamp();
processed_count INTEGER := 0;
failed_count INTEGER := 0;
current_batch_size INTEGER;
delivery_result BOOLEAN;
BEGIN
-- Process events in batches for each active subscription
FOR subscription_record IN
SELECT * FROM event_subscriptions
WHERE subscription_status = 'active'
ORDER BY created_at
LOOP
current_batch_size := subscription_record.batch_size;
-- Get pending events for this subscription
FOR event_record IN
WITH filtered_events AS (
SELECT se.*, epq.queue_id, epq.processing_attempts
FROM service_events se
JOIN event_processing_queue epq ON se.event_id = epq.event_id
WHERE epq.subscription_id = subscription_record.subscription_id
AND epq.queue_status = 'queued'
AND (epq.next_attempt_at IS NULL OR epq.next_attempt_at <= CURRENT_TIMESTAMP)
ORDER BY se.event_timestamp, se.sequence_number
LIMIT current_batch_size
)
SELECT * FROM filtered_events
LOOP
-- Update processing status
UPDATE event_processing_queue
SET
queue_status = 'processing',
processing_started_at = CURRENT_TIMESTAMP,
processing_attempts = processing_attempts + 1,
processing_node = 'sql_processor'
WHERE queue_id = event_record.queue_id;
BEGIN
-- Apply subscription filters (limited filtering capability)
IF subscription_record.filter_conditions IS NOT NULL THEN
IF NOT jsonb_path_exists(
event_record.event_data,
subscription_record.filter_conditions::jsonpath
) THEN
-- Skip this event
UPDATE event_processing_queue
SET queue_status = 'completed',
processing_completed_at = CURRENT_TIMESTAMP
WHERE queue_id = event_record.queue_id;
CONTINUE;
END IF;
END IF;
-- Simulate event delivery (in real implementation, would make HTTP call)
delivery_result := deliver_event_to_service(
subscription_record.delivery_endpoint,
event_record.event_data,
subscription_record.delivery_timeout_seconds
);
IF delivery_result THEN
-- Mark as completed
UPDATE event_processing_queue
SET
queue_status = 'completed',
processing_completed_at = CURRENT_TIMESTAMP,
processing_duration_ms = EXTRACT(
MILLISECONDS FROM CURRENT_TIMESTAMP - processing_started_at
)::INTEGER
WHERE queue_id = event_record.queue_id;
processed_count := processed_count + 1;
ELSE
RAISE EXCEPTION 'Event delivery failed';
END IF;
EXCEPTION WHEN OTHERS THEN
failed_count := failed_count + 1;
-- Handle retry logic
IF event_record.processing_attempts < subscription_record.max_delivery_attempts THEN
-- Schedule retry with exponential backoff
UPDATE event_processing_queue
SET
queue_status = 'queued',
next_attempt_at = CURRENT_TIMESTAMP +
(INTERVAL '1 minute' * POWER(2, event_record.processing_attempts)),
last_error_message = SQLERRM,
last_error_details = jsonb_build_object(
'error_code', SQLSTATE,
'error_message', SQLERRM,
'processing_attempt', event_record.processing_attempts + 1,
'timestamp', CURRENT_TIMESTAMP
)
WHERE queue_id = event_record.queue_id;
ELSE
-- Move to dead letter queue
UPDATE event_processing_queue
SET
queue_status = 'dead_letter',
last_error_message = SQLERRM,
processing_completed_at = CURRENT_TIMESTAMP
WHERE queue_id = event_record.queue_id;
END IF;
END;
END LOOP;
-- Update subscription's last processed event
UPDATE event_subscriptions
SET
last_processed_event_id = (
SELECT event_id FROM event_processing_queue
WHERE subscription_id = subscription_record.subscription_id
AND queue_status = 'completed'
ORDER BY processing_completed_at DESC
LIMIT 1
),
updated_at = CURRENT_TIMESTAMP
WHERE subscription_id = subscription_record.subscription_id;
END LOOP;
RETURN QUERY SELECT
processed_count,
failed_count,
EXTRACT(SECONDS FROM clock_timestamp() - processing_start)::INTEGER;
END;
$$ LANGUAGE plpgsql;
-- Manual trigger-based event creation (limited and unreliable)
CREATE OR REPLACE FUNCTION create_user_change_event()
RETURNS TRIGGER AS $$
BEGIN
-- Only create events for significant changes
IF TG_OP = 'INSERT' OR
(TG_OP = 'UPDATE' AND (
OLD.email != NEW.email OR
OLD.status != NEW.status OR
OLD.user_type != NEW.user_type
)) THEN
INSERT INTO service_events (
service_name,
event_type,
entity_id,
entity_type,
event_data,
event_metadata,
sequence_number,
partition_key
) VALUES (
'user_service',
CASE TG_OP
WHEN 'INSERT' THEN 'user_created'
WHEN 'UPDATE' THEN 'user_updated'
WHEN 'DELETE' THEN 'user_deleted'
END,
COALESCE(NEW.user_id, OLD.user_id),
'user',
jsonb_build_object(
'user_id', COALESCE(NEW.user_id, OLD.user_id),
'email', COALESCE(NEW.email, OLD.email),
'status', COALESCE(NEW.status, OLD.status),
'user_type', COALESCE(NEW.user_type, OLD.user_type),
'operation', TG_OP,
'changed_fields', CASE
WHEN TG_OP = 'INSERT' THEN jsonb_build_array('all')
WHEN TG_OP = 'UPDATE' THEN jsonb_build_array(
CASE WHEN OLD.email != NEW.email THEN 'email' END,
CASE WHEN OLD.status != NEW.status THEN 'status' END,
CASE WHEN OLD.user_type != NEW.user_type THEN 'user_type' END
)
ELSE jsonb_build_array('all')
END
),
jsonb_build_object(
'source_table', TG_TABLE_NAME,
'source_operation', TG_OP,
'timestamp', CURRENT_TIMESTAMP,
'transaction_id', txid_current()
),
nextval('event_sequence'),
COALESCE(NEW.user_id, OLD.user_id)::TEXT
);
-- Queue event for all matching subscriptions
INSERT INTO event_processing_queue (subscription_id, event_id)
SELECT
s.subscription_id,
currval('service_events_event_id_seq')
FROM event_subscriptions s
WHERE s.subscription_status = 'active'
AND s.event_type IN ('user_created', 'user_updated', 'user_deleted', '*')
AND (s.entity_type IS NULL OR s.entity_type = 'user');
END IF;
RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;
