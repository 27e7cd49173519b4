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
