\echo Use "CREATE EXTENSION pg_backorder" to load this file. \quit

-- pg_backorder install script, assembled by the Makefile from sql/parts/*.sql.
-- Everything lives in schema "backorder" (created by CREATE EXTENSION from the control file).

COMMENT ON SCHEMA backorder IS 'pg_backorder: backordered orders held, released and forecast inside PostgreSQL';

-- The one clock: transaction time, or the time pinned with SET backorder.now = '...'.
CREATE FUNCTION backorder.now() RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'backorder_now'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION backorder.now() IS
    'The engine''s clock: the transaction start time, or the time pinned by the setting backorder.now (tests and replays pin it).';
