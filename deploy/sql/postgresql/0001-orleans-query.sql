-- Xmbl.Cluster schema for Orleans' AdoNet providers on PostgreSQL, script 1: the query table.
--
-- The providers run no SQL of their own: at start they read "SELECT QueryKey, QueryText FROM OrleansQuery" and from
-- then on execute the statement stored under each key. So this table's name and its two columns are fixed; what the
-- statements do is ours, as long as each keeps the parameter names, result columns and return conventions the provider
-- expects (noted above each row in the later scripts).
--
-- Every script is safe to re-run (IF NOT EXISTS, CREATE OR REPLACE, upserts), so an operator who applied it by hand
-- and a silo that migrates later do not collide. Scripts are applied in order by Xmbl.Cluster.Persistence.Sql and
-- recorded in xmbl_schema_version; a released script is never edited (see src/Persistence.Sql/README.md).

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,
    CONSTRAINT orleans_query_pk PRIMARY KEY (QueryKey)
);
