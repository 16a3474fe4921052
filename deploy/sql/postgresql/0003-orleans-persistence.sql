-- Script 3: grain state (Microsoft.Orleans.Persistence.AdoNet 10.4.2).
--
-- A grain's state is keyed by service, grain type and grain id. Orleans hashes the id and the type into two integers
-- (grain_id_hash, grain_type_hash) and passes the clear values too; the unique index leads with the hashes so lookups
-- are narrow, and holds the clear values (long ones as md5) so a hash collision never merges two grains. A NULL and an
-- empty key extension are different grains, hence the extra "IS NULL" term.
--
-- Versions are the ETag: 1 on first write, +1 per write or clear. The provider sends the version it last read
-- (@GrainStateVersion, NULL if it never saw a row) and treats "no row returned" or "the same version returned" as a
-- conflict (InconsistentStateException).

CREATE TABLE IF NOT EXISTS orleans_grain_state
(
    service_id         varchar(150) NOT NULL,
    grain_type_hash    integer      NOT NULL,
    grain_id_hash      integer      NOT NULL,
    grain_type         text         NOT NULL,
    grain_id_n0        bigint       NOT NULL,
    grain_id_n1        bigint       NOT NULL,
    grain_id_extension text         NULL,
    payload            bytea        NULL,
    version            integer      NOT NULL,
    modified_on        timestamptz  NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX IF NOT EXISTS orleans_grain_state_key ON orleans_grain_state
(
    grain_id_hash,
    grain_type_hash,
    service_id,
    grain_id_n0,
    grain_id_n1,
    md5(grain_type),
    md5(coalesce(grain_id_extension, '')),
    (grain_id_extension IS NULL)
);

-- Writes a grain's state: with a version, updates the row still at that version; without one, inserts the first row
-- unless one exists (the unique index settles a race: the loser inserts nothing). Returns the new version, or no row
-- on conflict. One function call is one statement, so the whole write is atomic.
CREATE OR REPLACE FUNCTION orleans_grain_state_write(
    grain_id_hash_arg      integer,
    grain_id_n0_arg        bigint,
    grain_id_n1_arg        bigint,
    grain_type_hash_arg    integer,
    grain_type_arg         text,
    grain_id_extension_arg text,
    service_id_arg         text,
    version_arg            integer,
    payload_arg            bytea)
RETURNS TABLE (NewGrainStateVersion integer)
LANGUAGE plpgsql AS
$body$
BEGIN
    IF version_arg IS NOT NULL THEN
        RETURN QUERY
        UPDATE orleans_grain_state s
        SET payload = payload_arg, version = s.version + 1, modified_on = now()
        WHERE s.grain_id_hash = grain_id_hash_arg
          AND s.grain_type_hash = grain_type_hash_arg
          AND s.service_id = service_id_arg
          AND s.grain_id_n0 = grain_id_n0_arg
          AND s.grain_id_n1 = grain_id_n1_arg
          AND s.grain_type = grain_type_arg
          AND s.grain_id_extension IS NOT DISTINCT FROM grain_id_extension_arg
          AND s.version = version_arg
        RETURNING s.version;
    ELSE
        RETURN QUERY
        INSERT INTO orleans_grain_state AS s (service_id, grain_type_hash, grain_id_hash, grain_type, grain_id_n0,
                                              grain_id_n1, grain_id_extension, payload, version)
        VALUES (service_id_arg, grain_type_hash_arg, grain_id_hash_arg, grain_type_arg, grain_id_n0_arg,
                grain_id_n1_arg, grain_id_extension_arg, payload_arg, 1)
        ON CONFLICT DO NOTHING
        RETURNING s.version;
    END IF;
END
$body$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', $q$
    SELECT NewGrainStateVersion
    FROM orleans_grain_state_write(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
                                   @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- At most one row: the payload (NULL after a clear) and its version.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', $q$
    SELECT payload AS PayloadBinary, version AS Version
    FROM orleans_grain_state
    WHERE grain_id_hash = @GrainIdHash
      AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0
      AND grain_id_n1 = @GrainIdN1
      AND grain_type = @GrainTypeString
      AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString;
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Clears the payload but keeps the row and bumps the version, so a stale writer still conflicts. Returns the new
-- version, or no row on conflict.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', $q$
    UPDATE orleans_grain_state
    SET payload = NULL, version = version + 1, modified_on = now()
    WHERE grain_id_hash = @GrainIdHash
      AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0
      AND grain_id_n1 = @GrainIdN1
      AND grain_type = @GrainTypeString
      AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version AS NewGrainStateVersion;
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- For DeleteStateOnClear = true: removes the row. Returns one value that differs from the version sent (the provider
-- only checks that), or no row on conflict.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', $q$
    DELETE FROM orleans_grain_state
    WHERE grain_id_hash = @GrainIdHash
      AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0
      AND grain_id_n1 = @GrainIdN1
      AND grain_type = @GrainTypeString
      AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version + 1 AS NewGrainStateVersion;
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
