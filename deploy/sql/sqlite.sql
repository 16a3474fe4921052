-- Xmbl.Cluster grain runtime schema for SQLite (embedded mode).
-- The runtime runs this file on every start (it is embedded in Xmbl.Cluster.Runtime.dll); every statement is
-- idempotent. Timestamps are INTEGER milliseconds since the Unix epoch (UTC).

-- Grain state: one row per grain (type = grain interface name, key = string or GUID "D" form).
CREATE TABLE IF NOT EXISTS xmbl_grain_state (
    grain_type  TEXT NOT NULL,
    grain_key   TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0,
    state       BLOB NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (grain_type, grain_key)
) WITHOUT ROWID;

-- Cluster membership. status: 0 Joining, 1 Active, 2 ShuttingDown, 3 Dead.
CREATE TABLE IF NOT EXISTS xmbl_silos (
    silo_id         TEXT NOT NULL PRIMARY KEY,
    address         TEXT NOT NULL,
    status          INTEGER NOT NULL,
    started_at      INTEGER NOT NULL,
    last_heartbeat  INTEGER NOT NULL
);

-- Reminders: durable timers. next_due is the next tick not yet delivered.
CREATE TABLE IF NOT EXISTS xmbl_reminders (
    grain_type     TEXT NOT NULL,
    grain_key      TEXT NOT NULL,
    reminder_name  TEXT NOT NULL,
    start_at       INTEGER NOT NULL,
    period_ms      INTEGER NOT NULL CHECK (period_ms > 0),
    next_due       INTEGER NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (grain_type, grain_key, reminder_name)
);

CREATE INDEX IF NOT EXISTS xmbl_reminders_next_due_ix ON xmbl_reminders (next_due);
