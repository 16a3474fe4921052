-- Script 4: grain state of embedded mode's own storage (Xmbl.Cluster.Persistence.Sql's SqliteGrainStorage), which
-- commits many grains' writes in one transaction. Not read by the AdoNet providers.
--
-- One row per (state name, grain key): state_name is the name in [PersistentState("job", ...)], grain_key the grain's
-- string key as Orleans holds it. Keys compare as bytes (BINARY collation), so listings come out in ordinal order and a
-- key range is a seek into the primary key. version is the ETag (1 on first write, +1 per write or clear); a cleared
-- row keeps its version with a NULL payload, so a stale writer still conflicts. updated_at is Unix milliseconds (UTC).
-- One SQLite file is one silo's: no service id.

CREATE TABLE IF NOT EXISTS xmbl_grain_state
(
    state_name TEXT    NOT NULL,
    grain_key  TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    payload    BLOB    NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (state_name, grain_key)
) WITHOUT ROWID;
