-- clock_setting.sql — backorder.now, the setting that pins the engine's clock: what SET accepts
-- and refuses, and that a pinned clock reaches parallel workers safely.
-- Before anything loads pg_backorder in this session: the value is a placeholder's, which
-- PostgreSQL checks only when the library defines the setting, and then drops with a WARNING.
SET client_min_messages = error;
SET backorder.now = 'garbage';
BEGIN;
SELECT plan(11);

-- Regression: the refused value used to vanish, and the clock silently ran on transaction time.
SELECT throws_ok($$SELECT backorder.now()$$, '22023', NULL,
                 'a clock value refused when the library loaded: the clock refuses to run (22023)');
SELECT throws_ok($$SELECT backorder.now()$$, '22023', NULL, 'and keeps refusing until the session sets it again');
RESET backorder.now;
RESET client_min_messages;
SELECT is(backorder.now(), now(), 'after RESET the clock is transaction time');

SET backorder.now = '2024-12-31T12:00Z';
SELECT is(backorder.now(), timestamptz '2024-12-31 12:00+00', 'an ISO time with a zone abbreviation (Z) pins the clock');
SET backorder.now = '2024-12-31 09:00 America/New_York';
SELECT is(backorder.now(), timestamptz '2024-12-31 14:00+00', 'a time with a zone name pins the clock');

-- Regression: a parallel worker restores the leader's settings before it can read zone
-- abbreviations; checking the pinned time there crashed the worker (SIGSEGV) and the server
-- restarted.  The leader checked the value at SET; workers take it as it is.
SET backorder.now = '2024-12-31T12:00Z';
SET LOCAL force_parallel_mode = on;
SET LOCAL parallel_setup_cost = 0;
-- a top-level query (one inside a pgTAP function would not be run in parallel)
CREATE TEMP TABLE parallel_result AS SELECT count(*) AS n FROM pg_catalog.generate_series(1, 10);
SELECT is((SELECT n FROM parallel_result), 10::bigint,
          'a parallel query with the clock pinned by a zone abbreviation runs (the session survived it)');
SELECT is(backorder.now(), timestamptz '2024-12-31 12:00+00', 'and the clock is the pinned one');
RESET force_parallel_mode;

SELECT throws_ok($$SET backorder.now = 'infinity'$$, '22023', NULL, 'infinity is refused at SET (22023)');
SELECT throws_ok($$SET backorder.now = 'next tuesday'$$, '22023', NULL, 'an unreadable time is refused at SET (22023)');
SET backorder.now = '';
SELECT is(backorder.now(), now(), 'an empty setting is transaction time');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
