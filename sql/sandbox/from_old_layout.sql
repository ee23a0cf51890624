-- A database migrated by the old layout (sql/004_sandbox.sql) has the
-- sandbox's tables in the gateway's own schema.  "payoutctl migrate
-- --sandbox" runs this file once, when it creates schema sandbox there:
-- the tables move, rows, sequences, indexes and constraints with them,
-- and stand for schema/001_sandbox.sql (recorded without a checksum, as
-- the old layout recorded it); the old functions go, functions/ defines
-- them again in schema sandbox.

ALTER TABLE sandbox_transfers SET SCHEMA sandbox;
ALTER TABLE sandbox_events SET SCHEMA sandbox;

DROP FUNCTION IF EXISTS sandbox_time(timestamptz);
DROP FUNCTION IF EXISTS sandbox_transfer_json(sandbox.sandbox_transfers);
DROP FUNCTION IF EXISTS sandbox_transfer_create(uuid, bigint, text, text,
    text, text, text, text, text, bigint);
DROP FUNCTION IF EXISTS sandbox_transfer_cancel(uuid);
DROP FUNCTION IF EXISTS sandbox_events_claim(integer, boolean);
DROP FUNCTION IF EXISTS sandbox_event_retry(bigint);

INSERT INTO sandbox.schema_migrations (version, name)
VALUES (1, '001_sandbox.sql');
