-- Tracing: the trace context of the request that queued a delivery (a W3C traceparent), so that the
-- worker's spans continue that request's trace in another process. NULL with tracing off. The
-- check keeps it the fixed-size header it is (no free text reaches it).
ALTER TABLE otp.deliveries ADD COLUMN trace_parent text
    CONSTRAINT deliveries_trace_parent_format CHECK (trace_parent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');
