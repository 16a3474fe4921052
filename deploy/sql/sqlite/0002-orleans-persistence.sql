-- Script 2: grain state (Microsoft.Orleans.Persistence.AdoNet 10.4.2). Same contract as the PostgreSQL script:
-- the version is the ETag (1 on first write, +1 per write or clear); "no row returned" means conflict.
--
-- The unique index leads with Orleans' two hashes and holds the clear key values; a NULL and an empty key extension
-- are different grains, hence the "IS NULL" term. SQLite runs one writer at a time, so each statement below is atomic
-- on its own; the provider sends each key's text as one command and reads every result set.

CREATE TABLE IF NOT EXISTS orleans_grain_state
(
    service_id         TEXT    NOT NULL,
    grain_type_hash    INTEGER NOT NULL,
    grain_id_hash      INTEGER NOT NULL,
    grain_type         TEXT    NOT NULL,
    grain_id_n0        INTEGER NOT NULL,
    grain_id_n1        INTEGER NOT NULL,
    grain_id_extension TEXT    NULL,
    payload            BLOB    NULL,
    version            INTEGER NOT NULL,
    modified_on        TEXT    NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS orleans_grain_state_key ON orleans_grain_state
(
    grain_id_hash,
    grain_type_hash,
    service_id,
    grain_id_n0,
    grain_id_n1,
    grain_type,
    ifnull(grain_id_extension, ''),
    grain_id_extension IS NULL
);

-- With a version: update the row still at that version. Without: insert the first row unless one exists. At most one
-- of the two statements can return a row (the new version).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
    UPDATE orleans_grain_state
    SET payload = @PayloadBinary,
        version = version + 1,
        modified_on = strftime(''%Y-%m-%d %H:%M:%f'', ''now'')
    WHERE @GrainStateVersion IS NOT NULL
      AND grain_id_hash = @GrainIdHash
      AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0
      AND grain_id_n1 = @GrainIdN1
      AND grain_type = @GrainTypeString
      AND grain_id_extension IS @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version AS NewGrainStateVersion;

    INSERT INTO orleans_grain_state (service_id, grain_type_hash, grain_id_hash, grain_type, grain_id_n0, grain_id_n1,
                                     grain_id_extension, payload, version, modified_on)
    SELECT @ServiceId, @GrainTypeHash, @GrainIdHash, @GrainTypeString, @GrainIdN0, @GrainIdN1,
           @GrainIdExtensionString, @PayloadBinary, 1, strftime(''%Y-%m-%d %H:%M:%f'', ''now'')
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version AS NewGrainStateVersion;
') ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- At most one row: the payload (NULL after a clear) and its version.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
    SELECT payload AS PayloadBinary, version AS Version
    FROM orleans_grain_state
    WHERE grain_id_hash = @GrainIdHash
      AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0
      AND grain_id_n1 = @GrainIdN1
      AND grain_type = @GrainTypeString
      AND grain_id_extension IS @GrainIdExtensionString;
') ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Clears the payload, keeps the row, bumps the version; the new version, or no row on conflict.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
    UPDATE orleans_grain_state
    SET payload = NULL,
        version = version + 1,
        modified_on = strftime(''%Y-%m-%d %H:%M:%f'', ''now'')
    WHERE grain_id_hash = @GrainIdHash
      AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0
      AND grain_id_n1 = @GrainIdN1
      AND grain_type = @GrainTypeString
      AND grain_id_extension IS @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version AS NewGrainStateVersion;
') ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- For DeleteStateOnClear = true: removes the row; a value other than the version sent, or no row on conflict.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', '
    DELETE FROM orleans_grain_state
    WHERE grain_id_hash = @GrainIdHash
      AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0
      AND grain_id_n1 = @GrainIdN1
      AND grain_type = @GrainTypeString
      AND grain_id_extension IS @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version + 1 AS NewGrainStateVersion;
') ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
