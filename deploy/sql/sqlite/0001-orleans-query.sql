-- Xmbl.Cluster schema for Orleans' AdoNet providers on SQLite (embedded mode), script 1: the query table.
--
-- The providers run no SQL of their own: at start they read "SELECT QueryKey, QueryText FROM OrleansQuery" and then
-- execute the statement stored under each key, so this table's name and columns are fixed. The 10.4.2 providers know
-- SQLite under the invariant name "System.Data.SQLite" and open it through Microsoft.Data.Sqlite.
--
-- Embedded mode has one silo and uses localhost clustering, so there is no membership script here. Every script is
-- safe to re-run; Xmbl.Cluster.Persistence.Sql applies them in order and records them in xmbl_schema_version.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    QueryText TEXT NOT NULL
);
