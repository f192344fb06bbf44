-- The canonical text of an event, which its chain hash covers: fixed order, a separator no field
-- can hold unescaped, the time in microseconds since the epoch (independent of the session's
-- time zone).
CREATE OR REPLACE FUNCTION otp.event_text(e otp.events) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(concat_ws(chr(31), e.id::text, (extract(epoch FROM e.at) * 1000000)::bigint::text, e.event,
        coalesce(e.app_id, ''), coalesce(e.verification_id, ''), coalesce(e.actor, ''), coalesce(e.ip, ''),
        e.details::text), 'UTF8')
$$;
