-- Monitor event processing with real-time analytics
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
WHEN success_rate_percent >= 99 AND avg_processing_lag_ms < 1000 THEN 'Excellent'
WHEN success_rate_percent >= 95 AND avg_processing_lag_ms < 5000 THEN 'Good'
WHEN success_rate_percent >= 90 AND avg_processing_lag_ms < 15000 THEN 'Fair'
ELSE 'Needs Attention'
END as service_health_status
FROM event_stream_metrics
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
