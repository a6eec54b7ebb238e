-- Privileges.  When a non-superuser installs the (trusted) extension, its objects
-- belong to the bootstrap superuser; the installing role gets what it needs to
-- use it.  The engine's guards, not privileges, keep apps off engine-maintained
-- columns, so the engine can write them on behalf of whoever calls it.
GRANT USAGE ON SCHEMA backorder TO @extowner@;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA backorder TO @extowner@;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA backorder TO @extowner@;
