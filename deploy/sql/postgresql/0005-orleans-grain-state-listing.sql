-- Script 5: listing grain state by key (Xmbl.Cluster.Persistence.Sql's PostgresGrainStateQuery).
--
-- The AdoNet provider stores a string-keyed grain's key in grain_id_extension with grain_id_n0 = grain_id_n1 = 0, and
-- the state name in grain_type. Listings read one state name of one service in key order, from a key onwards: this
-- index makes that a range scan. Keys are ordered by bytes (COLLATE "C", as SQLite's BINARY), whatever the database's
-- collation. A btree entry holds at most about 2.7 kB, and object keys may be longer in UTF-8, so the index holds the
-- first 400 characters (at most 1,600 bytes); queries order by that, then by the whole key, which is the same order.

CREATE INDEX IF NOT EXISTS orleans_grain_state_listing ON orleans_grain_state
(
    service_id,
    grain_type,
    (left(grain_id_extension, 400) COLLATE "C")
)
WHERE grain_id_n0 = 0 AND grain_id_n1 = 0 AND grain_id_extension IS NOT NULL;
