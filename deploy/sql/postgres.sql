-- Xmbl.Cluster grain runtime schema for PostgreSQL (cluster mode).
-- The runtime runs this file on every start (it is embedded in Xmbl.Cluster.Runtime.dll); every statement is
-- idempotent. Operators may also apply it by hand: psql -f deploy/sql/postgres.sql
-- Timestamps are UTC; keys use the "C" collation so that paging by key is ordinal.

-- Grain state: one row per grain (type = grain interface name, key = string or GUID "D" form).
-- version 0 with a NULL state is a placeholder created to take the row lock on a grain that has no state yet.
CREATE TABLE IF NOT EXISTS xmbl_grain_state (
    grain_type  text COLLATE "C" NOT NULL,
    grain_key   text COLLATE "C" NOT NULL,
    version     bigint NOT NULL DEFAULT 0,
    state       bytea NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT xmbl_grain_state_pk PRIMARY KEY (grain_type, grain_key)
);

-- Cluster membership: one row per silo process (a restarted process is a new silo id).
-- status: 0 Joining, 1 Active, 2 ShuttingDown, 3 Dead.
CREATE TABLE IF NOT EXISTS xmbl_silos (
    silo_id         text COLLATE "C" NOT NULL,
    address         text NOT NULL,
    status          integer NOT NULL,
    started_at      timestamptz NOT NULL,
    last_heartbeat  timestamptz NOT NULL,
    CONSTRAINT xmbl_silos_pk PRIMARY KEY (silo_id)
);

-- Reminders: durable timers. next_due is the next tick not yet delivered; a silo claims due rows with
-- FOR UPDATE SKIP LOCKED and moves next_due past "now" in the same statement, so each tick is delivered once.
CREATE TABLE IF NOT EXISTS xmbl_reminders (
    grain_type     text COLLATE "C" NOT NULL,
    grain_key      text COLLATE "C" NOT NULL,
    reminder_name  text COLLATE "C" NOT NULL,
    start_at       timestamptz NOT NULL,
    period_ms      bigint NOT NULL CHECK (period_ms > 0),
    next_due       timestamptz NOT NULL,
    version        bigint NOT NULL DEFAULT 1,
    CONSTRAINT xmbl_reminders_pk PRIMARY KEY (grain_type, grain_key, reminder_name)
);

CREATE INDEX IF NOT EXISTS xmbl_reminders_next_due_ix ON xmbl_reminders (next_due);
