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
