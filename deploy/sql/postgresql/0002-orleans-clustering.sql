-- Script 2: cluster membership (Microsoft.Orleans.Clustering.AdoNet 10.4.2).
--
-- One version row per cluster (deployment id) and one row per silo incarnation. Orleans' membership protocol is
-- optimistic: every change names the table version it read, and succeeds only if that is still the version, bumping
-- it in the same transaction. Silos, and clients looking for gateways, share these tables.

CREATE TABLE IF NOT EXISTS orleans_membership_version
(
    deployment_id varchar(150) NOT NULL,
    version       integer      NOT NULL DEFAULT 0,
    changed_at    timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT orleans_membership_version_pk PRIMARY KEY (deployment_id)
);

CREATE TABLE IF NOT EXISTS orleans_membership
(
    deployment_id   varchar(150) NOT NULL,
    address         varchar(45)  NOT NULL,
    port            integer      NOT NULL,
    generation      integer      NOT NULL,
    silo_name       varchar(150) NOT NULL,
    host_name       varchar(150) NOT NULL,
    status          integer      NOT NULL,
    proxy_port      integer      NULL,
    suspect_times   text         NULL,
    start_time      timestamptz  NOT NULL,
    i_am_alive_time timestamptz  NOT NULL,
    CONSTRAINT orleans_membership_pk PRIMARY KEY (deployment_id, address, port, generation),
    CONSTRAINT orleans_membership_version_fk FOREIGN KEY (deployment_id) REFERENCES orleans_membership_version (deployment_id)
);

-- Inserts a silo's row if the table is still at version_arg, and bumps the version; returns 1, or 0 (nothing changed)
-- when the version moved on or the row exists. The version row is locked first, so of two silos racing with the same
-- version exactly one wins, and the loser leaves no trace (no version bump without its row).
CREATE OR REPLACE FUNCTION orleans_membership_insert(
    deployment_id_arg   text,
    address_arg         text,
    port_arg            integer,
    generation_arg      integer,
    silo_name_arg       text,
    host_name_arg       text,
    status_arg          integer,
    proxy_port_arg      integer,
    start_time_arg      timestamptz,
    i_am_alive_time_arg timestamptz,
    version_arg         integer)
RETURNS integer
LANGUAGE plpgsql AS
$body$
DECLARE
    current_version integer;
    inserted        integer;
BEGIN
    SELECT v.version INTO current_version
    FROM orleans_membership_version v
    WHERE v.deployment_id = deployment_id_arg
    FOR UPDATE;

    IF current_version IS NULL OR version_arg IS NULL OR current_version <> version_arg OR current_version = 2147483647 THEN
        RETURN 0;
    END IF;

    INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status, proxy_port,
                                    start_time, i_am_alive_time)
    VALUES (deployment_id_arg, address_arg, port_arg, generation_arg, silo_name_arg, host_name_arg, status_arg,
            proxy_port_arg, start_time_arg, i_am_alive_time_arg)
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    IF inserted = 0 THEN
        RETURN 0;
    END IF;

    UPDATE orleans_membership_version
    SET version = version + 1, changed_at = now()
    WHERE deployment_id = deployment_id_arg;
    RETURN 1;
END
$body$;

-- Updates a silo's row (status, suspicions, liveness) under the same version rule as the insert; returns 1 or 0.
-- The liveness time never moves backwards (a late, stale write cannot make a silo look older than it is).
CREATE OR REPLACE FUNCTION orleans_membership_update(
    deployment_id_arg   text,
    address_arg         text,
    port_arg            integer,
    generation_arg      integer,
    status_arg          integer,
    suspect_times_arg   text,
    i_am_alive_time_arg timestamptz,
    version_arg         integer)
RETURNS integer
LANGUAGE plpgsql AS
$body$
DECLARE
    current_version integer;
    updated         integer;
BEGIN
    SELECT v.version INTO current_version
    FROM orleans_membership_version v
    WHERE v.deployment_id = deployment_id_arg
    FOR UPDATE;

    IF current_version IS NULL OR version_arg IS NULL OR current_version <> version_arg OR current_version = 2147483647 THEN
        RETURN 0;
    END IF;

    UPDATE orleans_membership m
    SET status = status_arg,
        suspect_times = suspect_times_arg,
        i_am_alive_time = GREATEST(m.i_am_alive_time, i_am_alive_time_arg)
    WHERE m.deployment_id = deployment_id_arg
      AND m.address = address_arg
      AND m.port = port_arg
      AND m.generation = generation_arg;
    GET DIAGNOSTICS updated = ROW_COUNT;
    IF updated = 0 THEN
        RETURN 0;
    END IF;

    UPDATE orleans_membership_version
    SET version = version + 1, changed_at = now()
    WHERE deployment_id = deployment_id_arg;
    RETURN 1;
END
$body$;

-- Creates the cluster's version row if missing. Returns one row, one column: 1 when created, 0 when it existed.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('InsertMembershipVersionKey', $q$
    WITH created AS (
        INSERT INTO orleans_membership_version (deployment_id)
        VALUES (@DeploymentId)
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer FROM created;
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- One row, one column: 1 inserted, 0 not (version moved on, or the silo's row exists).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('InsertMembershipKey', $q$
    SELECT orleans_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
                                     @ProxyPort, @StartTime, @IAmAliveTime, @Version);
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- One row, one column: 1 updated, 0 not.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpdateMembershipKey', $q$
    SELECT orleans_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes,
                                     @IAmAliveTime, @Version);
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- The liveness heartbeat; not versioned, result not read.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpdateIAmAlivetimeKey', $q$
    UPDATE orleans_membership
    SET i_am_alive_time = GREATEST(i_am_alive_time, @IAmAliveTime)
    WHERE deployment_id = @DeploymentId
      AND address = @Address
      AND port = @Port
      AND generation = @Generation;
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- The version row joined with one silo's row (or NULL silo columns): the provider reads the version even when the
-- silo has no row. Column names are the provider's.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('MembershipReadRowKey', $q$
    SELECT v.deployment_id   AS DeploymentId,
           m.address         AS Address,
           m.port            AS Port,
           m.generation      AS Generation,
           m.silo_name       AS SiloName,
           m.host_name       AS HostName,
           m.status          AS Status,
           m.proxy_port      AS ProxyPort,
           m.suspect_times   AS SuspectTimes,
           m.start_time      AS StartTime,
           m.i_am_alive_time AS IAmAliveTime,
           v.version         AS Version
    FROM orleans_membership_version v
    LEFT JOIN orleans_membership m
           ON m.deployment_id = v.deployment_id
          AND m.address = @Address
          AND m.port = @Port
          AND m.generation = @Generation
    WHERE v.deployment_id = @DeploymentId;
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- The version row joined with every silo's row.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('MembershipReadAllKey', $q$
    SELECT v.deployment_id   AS DeploymentId,
           m.address         AS Address,
           m.port            AS Port,
           m.generation      AS Generation,
           m.silo_name       AS SiloName,
           m.host_name       AS HostName,
           m.status          AS Status,
           m.proxy_port      AS ProxyPort,
           m.suspect_times   AS SuspectTimes,
           m.start_time      AS StartTime,
           m.i_am_alive_time AS IAmAliveTime,
           v.version         AS Version
    FROM orleans_membership_version v
    LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
    WHERE v.deployment_id = @DeploymentId;
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Gateways for clients: silos in status @Status (Active) that accept clients.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('GatewaysQueryKey', $q$
    SELECT address AS Address, proxy_port AS ProxyPort, generation AS Generation
    FROM orleans_membership
    WHERE deployment_id = @DeploymentId
      AND status = @Status
      AND proxy_port > 0;
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Removes a whole cluster's rows (tests and tooling).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM orleans_membership WHERE deployment_id = @DeploymentId;
    DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId;
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Bulk clean-up of dead silos not heard of since @IAmAliveTime (status 6 = Dead). The provider uses it only when
-- CleanupDefunctSiloEntryKey is absent; both are kept so either provider path is correct.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM orleans_membership
    WHERE deployment_id = @DeploymentId
      AND status = 6
      AND i_am_alive_time < @IAmAliveTime
      AND start_time < @IAmAliveTime
      AND coalesce(suspect_times, '') = '';
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Deletes one dead silo's row only if it still holds the values the provider read when it judged the row defunct,
-- so a row changed since (a late vote, a heartbeat) survives.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('CleanupDefunctSiloEntryKey', $q$
    DELETE FROM orleans_membership
    WHERE deployment_id = @DeploymentId
      AND address = @Address
      AND port = @Port
      AND generation = @Generation
      AND status = 6
      AND start_time = @StartTime
      AND i_am_alive_time = @IAmAliveTime
      AND coalesce(suspect_times, '') = coalesce(@SuspectTimes, '');
$q$) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
