-- SLA settings: validation with SQLSTATEs and hints, normalisation of what is stored.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-03-01 09:00+00';
SELECT plan(26);

-- error_of(sql): 'SQLSTATE: hint' of the error the statement raises, or 'no error'.
CREATE FUNCTION pg_temp.error_of(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text;
    hint text;
BEGIN
    EXECUTE p_sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, hint = PG_EXCEPTION_HINT;
    RETURN st || ': ' || coalesce(nullif(hint, ''), '(no hint)');
END
$$;

INSERT INTO backorder.client (client_id) VALUES ('slaset_c1'), ('slaset_c2');

-- Defaults.
INSERT INTO backorder.client_sla (client_id) VALUES ('slaset_c1');
SELECT results_eq(
    $$SELECT time_zone, cutoff, business_days, promise, at_risk_margin FROM backorder.client_sla WHERE client_id = 'slaset_c1'$$,
    $$VALUES ('UTC'::text, '14:00'::time, '{1,2,3,4,5}'::integer[], 'same_day'::text, '2 hours'::interval)$$,
    'defaults: UTC, 14:00, Monday to Friday, same_day, 2 hours');

-- Normalisation: the catalog's spelling of the zone, sorted distinct weekdays.
UPDATE backorder.client_sla SET time_zone = 'europe/berlin', business_days = '{5,1,3,1}' WHERE client_id = 'slaset_c1';
SELECT results_eq(
    $$SELECT time_zone, business_days FROM backorder.client_sla WHERE client_id = 'slaset_c1'$$,
    $$VALUES ('Europe/Berlin'::text, '{1,3,5}'::integer[])$$,
    'time zone stored in the catalog''s spelling, weekdays sorted and distinct');
SELECT lives_ok(
    $$UPDATE backorder.client_sla SET cutoff = '23:59:59', at_risk_margin = '0' WHERE client_id = 'slaset_c1'$$,
    'cutoff 23:59:59 and a zero margin are accepted');
SELECT lives_ok(
    $$UPDATE backorder.client_sla SET cutoff = '00:00', promise = 'next_business_day', business_days = '{1,2,3,4,5,6,7}' WHERE client_id = 'slaset_c1'$$,
    'cutoff 00:00, next_business_day, seven business days are accepted');

-- Unknown time zone.
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, time_zone) VALUES ('slaset_c2', 'Mars/Olympus_Mons')$$,
    '22023', 'time zone "Mars/Olympus_Mons" is not recognized', 'unknown time zone: 22023');
SELECT is(pg_temp.error_of($$INSERT INTO backorder.client_sla (client_id, time_zone) VALUES ('slaset_c2', 'Mars/Olympus_Mons')$$),
    '22023: Give an IANA time zone name such as ''Europe/Berlin'' or ''America/New_York''; SELECT name FROM pg_timezone_names lists them.',
    'unknown time zone: the hint names IANA zones');
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, time_zone) VALUES ('slaset_c2', 'UTC+3')$$,
    '22023', NULL, 'a POSIX offset string is refused (its sign is inverted and it has no DST rules)');
SELECT throws_ok(
    $$UPDATE backorder.client_sla SET time_zone = 'Europe/Atlantis' WHERE client_id = 'slaset_c1'$$,
    '22023', NULL, 'an update to an unknown time zone is refused too');
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, time_zone) VALUES ('slaset_c2', NULL)$$,
    '23502', 'time_zone must not be null', 'NULL time zone: 23502');

-- Cutoff outside 00:00-23:59.
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, cutoff) VALUES ('slaset_c2', '24:00')$$,
    '22008', 'cutoff 24:00:00 is outside 00:00-23:59', 'cutoff 24:00: 22008');
SELECT is(pg_temp.error_of($$INSERT INTO backorder.client_sla (client_id, cutoff) VALUES ('slaset_c2', '24:00')$$),
    '22008: Give the same-day cutoff as a local time of day between 00:00 and 23:59, e.g. ''14:00''.',
    'cutoff 24:00: the hint gives the range');
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, cutoff) VALUES ('slaset_c2', '25:00')$$,
    '22008', NULL, 'cutoff 25:00: the same SQLSTATE, from the time type itself');
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, cutoff) VALUES ('slaset_c2', NULL)$$,
    '23502', 'cutoff must not be null', 'NULL cutoff: 23502');

-- Negative margin.
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, at_risk_margin) VALUES ('slaset_c2', '-30 minutes')$$,
    '22023', 'at_risk_margin -00:30:00 is negative', 'negative margin: 22023');
SELECT is(pg_temp.error_of($$UPDATE backorder.client_sla SET at_risk_margin = '-1 day' WHERE client_id = 'slaset_c1'$$),
    '22023: Give a non-negative interval such as ''2 hours''; ''0'' turns at_risk off.',
    'negative margin: the hint says what is allowed');

-- Business days, promise.
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, business_days) VALUES ('slaset_c2', '{}')$$,
    '22023', 'business_days {} is not a non-empty list of ISO weekdays', 'no business day: 22023');
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, business_days) VALUES ('slaset_c2', '{0,1}')$$,
    '22023', NULL, 'weekday 0 (Sunday in extract(dow)) is refused: ISO numbering');
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, business_days) VALUES ('slaset_c2', '{1,8}')$$,
    '22023', NULL, 'weekday 8 is refused');
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, business_days) VALUES ('slaset_c2', '{1,NULL}')$$,
    '22023', NULL, 'a NULL weekday is refused');
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id, promise) VALUES ('slaset_c2', 'asap')$$,
    '22023', 'unknown SLA promise "asap"', 'unknown promise: 22023');

-- The client must exist (no foreign key: the engine's SQLSTATE and hint).
SELECT throws_ok(
    $$INSERT INTO backorder.client_sla (client_id) VALUES ('slaset_nobody')$$,
    '23503', 'client "slaset_nobody" does not exist', 'SLA of an unknown client: 23503');
SELECT is(pg_temp.error_of($$INSERT INTO backorder.client_holiday (client_id, holiday) VALUES ('slaset_nobody', '2024-12-25')$$),
    '23503: Insert it into backorder.client first.',
    'holiday of an unknown client: 23503 with the engine''s hint');
SELECT throws_ok(
    $$INSERT INTO backorder.client_holiday (client_id, holiday) VALUES ('slaset_c1', NULL)$$,
    '23502', NULL, 'NULL holiday: 23502');

-- Nothing was written by the refused statements.
SELECT is((SELECT count(*)::int FROM backorder.client_sla WHERE client_id = 'slaset_c2'), 0,
    'refused rows wrote nothing');
SELECT results_eq(
    $$SELECT time_zone, cutoff, promise, at_risk_margin FROM backorder.client_sla WHERE client_id = 'slaset_c1'$$,
    $$VALUES ('Europe/Berlin'::text, '00:00'::time, 'next_business_day'::text, '0'::interval)$$,
    'refused updates left the row as it was');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
