using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Xmbl.Cluster.Grains;
using Xmbl.Cluster.Grains.Interfaces;
using Xmbl.Cluster.Grains.Jobs.Execution;
using Xmbl.Cluster.Grains.Nodes;
using Xmbl.Cluster.Grains.Options;
using Xmbl.Cluster.Persistence.Sql;
using Xmbl.Cluster.Persistence.Sql.Migrations;
using Xmbl.Cluster.Persistence.Sql.Options;
using Xmbl.Cluster.Persistence.Sql.PostgreSql;
using Xmbl.Cluster.Persistence.Sql.Sqlite;
using Xmbl.Cluster.Storage.Options;
using Xmbl.Cluster.Storage.Transport.Relay;
using Xmbl.Cluster.Wasm.Engines;

namespace Xmbl.Cluster.Hosting;

/// <summary>Composes a silo: Orleans on the configured backend, the cluster's grains and this silo's nodes.</summary>
public static class SiloServiceCollectionExtensions
{
    /// <summary>The invariant name of Npgsql for Orleans' AdoNet providers.</summary>
    public const string PostgresInvariant = "Npgsql";

    /// <summary>
    /// Adds a silo. With no connection string it runs embedded (localhost clustering, grain state and reminders on
    /// SQLite under the data directory, several logical nodes); with <c>Xmbl:Persistence:ConnectionString</c> it
    /// joins a cluster on PostgreSQL (AdoNet clustering, persistence and reminders) as one node.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration (see <see cref="SiloConfiguration"/> for keys).</param>
    /// <param name="address">The silo's base URL, as other members and clients reach it.</param>
    public static SiloSetup AddSilo(this IServiceCollection services, IConfiguration configuration, string address)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var dataDirectory = Path.GetFullPath(configuration[SiloConfiguration.DataDirectoryKey] ?? SiloConfiguration.DefaultDataDirectory);
        Directory.CreateDirectory(dataDirectory);
        var connectionString = configuration[SiloConfiguration.ConnectionStringKey];
        var embedded = string.IsNullOrWhiteSpace(connectionString);
        var siloName = configuration[SiloConfiguration.SiloIdKey] is { Length: > 0 } configured ? configured : "silo-" + Guid.NewGuid().ToString("N")[..12];
        var siloPort = Port(configuration, SiloConfiguration.SiloPortKey, SiloConfiguration.DefaultSiloPort);
        var gatewayPort = Port(configuration, SiloConfiguration.GatewayPortKey, SiloConfiguration.DefaultGatewayPort);
        var clusterId = configuration[SiloConfiguration.ClusterIdKey] is { Length: > 0 } id ? id : SiloConfiguration.DefaultClusterId;
        var migrate = !bool.TryParse(configuration[SiloConfiguration.NoMigrateKey], out var noMigrate) || !noMigrate;
        var sqlite = $"Data Source={Path.Combine(dataDirectory, "cluster.db")};Pooling=True";
        // What other members dial: Orleans' endpoint (an IP) and the nodes' base URL (shards), never a wildcard.
        var (advertisedIp, announcedUrl) = embedded ? (IPAddress.Loopback, address) : Advertised(configuration, address);

        services.TryAddTimeProvider();

        var schema = new SchemaMigrationOptions { Dialect = embedded ? SqlDialect.Sqlite : SqlDialect.PostgreSql, ConnectionString = embedded ? sqlite : connectionString!, Migrate = migrate };

        if (embedded)
        {
            SqliteAdoNet.RegisterProviderFactory();
            services.AddSingleton<IGrainStateQuery>(_ => new SqliteGrainStateQuery(sqlite));
        }
        else
        {
            services.AddSingleton(_ => Npgsql.NpgsqlDataSource.Create(connectionString!));
            services.AddSingleton<IGrainStateQuery>(sp => new PostgresGrainStateQuery(sp.GetRequiredService<Npgsql.NpgsqlDataSource>(), clusterId));
        }

        services.AddOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = siloName);
            // A grain call carries the caller's trace context, so a job's trace follows it across grains and silos
            // (spans are only made while a tracer listens: docs/operations.md, "Telemetry").
            silo.AddActivityPropagation();
            // Orleans' failure detector (ProbeTimeout, NumMissedProbesLimit, …): how fast a dead silo is declared dead.
            silo.Configure<ClusterMembershipOptions>(configuration.GetSection(SiloConfiguration.MembershipSection));
            silo.Services.AddSerializer(s => s.AddClusterSerialization());
            // A database error inside a grain reaches its caller on another silo or a gateway as itself (Orleans
            // serializes only exceptions of listed namespaces), so a database outage answers 503, not 500.
            silo.Services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));
            silo.Services.AddPlacementDirector<NodeHostPlacement, NodeHostPlacementDirector>();
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => new SchemaMigrationParticipant(schema, sp.GetRequiredService<ILogger<SchemaMigrator>>()));
            if (embedded)
            {
                silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: clusterId, clusterId: clusterId);
                silo.AddSqliteGrainStorage(GrainStates.Storage, o => o.ConnectionString = sqlite);
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = SqliteAdoNet.Invariant;
                    o.ConnectionString = sqlite;
                });
            }
            else
            {
                silo.ConfigureEndpoints(advertisedIp, siloPort, gatewayPort, listenOnAnyHostAddress: true);
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = PostgresInvariant;
                    o.ConnectionString = connectionString;
                });
                silo.AddAdoNetGrainStorage(GrainStates.Storage, o =>
                {
                    o.Invariant = PostgresInvariant;
                    o.ConnectionString = connectionString;
                    o.GrainStorageSerializer = GrainStateJsonSerializer.Default;
                });
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = PostgresInvariant;
                    o.ConnectionString = connectionString;
                });
            }

            // The repair reminder's period is configured in minutes or less in tests.
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        });

        services.AddObjectStorage(configuration, embedded);
        if (!embedded)
        {
            // Behind NAT (Xmbl:Storage:Relay:Via): other members reach this silo's shards through the relay it keeps
            // tunnels open to, so its nodes announce the relay's path for it. Every cluster silo can be a relay.
            services.AddShardRelay(siloName);
            if (configuration[ShardRelayOptions.SectionName + ":Via"] is { Length: > 0 } via)
            {
                announcedUrl = ShardRelay.AddressFor(new ShardRelayOptions { Via = via }.ViaUri!, siloName).ToString();
            }
        }

        services.AddOptions<NodeOptions>()
            .Bind(configuration.GetSection(NodeOptions.SectionName))
            .PostConfigure(o => o.Count ??= embedded ? NodeOptions.DefaultEmbeddedCount : NodeOptions.DefaultClusterCount)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<NodeOptions>, NodeOptionsValidator>();
        services.AddSingleton(sp => new LocalNodes(dataDirectory, sp.GetRequiredService<IOptions<NodeOptions>>().Value.Count!.Value));
        services.AddSingleton(sp => new NodeAnnouncement(
            sp.GetRequiredService<IOptions<NodeOptions>>(),
            sp.GetRequiredService<LocalNodes>(),
            announcedUrl,
            dataDirectory,
            sp.GetServices<INodeLoadReporter>,
            sp.GetService<IWasmEngine>()));
        services.AddSingleton<NodeDirectory>();
        services.AddSingleton<NodeAnnouncer>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<NodeAnnouncer>());

        // Graceful leaves (xmbl node leave): after the announcer, whose registration a resumed leave waits for.
        services.AddSingleton<NodeLeaver>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<NodeLeaver>());
        return new SiloSetup(dataDirectory, embedded, siloName);
    }

    private static int Port(IConfiguration configuration, string key, int fallback)
    {
        var text = configuration[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? port
            : throw new FormatException($"{key} must be a TCP port (1-65535), not '{text}'.");
    }

    /// <summary>
    /// What other members dial. <c>Xmbl:Silo:AdvertisedAddress</c> (an IP or a host name, e.g. a compose service name)
    /// when set: Orleans gets its address (a name is resolved at start) and the nodes announce the silo's URL with that
    /// host. Else the host of the silo's URL when it is an IP other than a wildcard, else the host's first IPv4 address.
    /// </summary>
    internal static (IPAddress Ip, string Url) Advertised(IConfiguration configuration, string address)
    {
        var (scheme, host, port) = SplitUrl(address);
        if (configuration[SiloConfiguration.AdvertisedAddressKey] is { Length: > 0 } text)
        {
            if (IPAddress.TryParse(text, out var ip))
            {
                return (ip, JoinUrl(scheme, ip.ToString(), ip.AddressFamily, port));
            }

            if (Uri.CheckHostName(text) != UriHostNameType.Dns)
            {
                throw new FormatException($"{SiloConfiguration.AdvertisedAddressKey} must be an IP address or a host name, not '{text}'.");
            }

            IPAddress[] resolved;
            try
            {
                resolved = Dns.GetHostAddresses(text);
            }
            catch (SocketException ex)
            {
                throw new FormatException($"{SiloConfiguration.AdvertisedAddressKey} '{text}' does not resolve to an address: {ex.Message}", ex);
            }

            var chosen = resolved.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? resolved.FirstOrDefault()
                ?? throw new FormatException($"{SiloConfiguration.AdvertisedAddressKey} '{text}' does not resolve to an address.");
            return (chosen, JoinUrl(scheme, text, AddressFamily.Unspecified, port));
        }

        if (IPAddress.TryParse(host.Trim('[', ']'), out var fromUrl) && !fromUrl.Equals(IPAddress.Any) && !fromUrl.Equals(IPAddress.IPv6Any))
        {
            return (fromUrl, address);
        }

        var first = Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? IPAddress.Loopback;
        var wildcard = host is "*" or "+" || IPAddress.TryParse(host.Trim('[', ']'), out _);
        return (first, wildcard ? JoinUrl(scheme, first.ToString(), first.AddressFamily, port) : address);
    }

    // Kestrel's URLs may name a wildcard host (*, +) that System.Uri does not parse, so they are split by hand.
    private static (string Scheme, string Host, string Port) SplitUrl(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd > 0 ? url[..schemeEnd] : "http";
        var rest = schemeEnd > 0 ? url[(schemeEnd + 3)..] : url;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash >= 0 ? rest[..slash] : rest;
        var colon = authority.LastIndexOf(':');
        return colon > authority.LastIndexOf(']') ? (scheme, authority[..colon], authority[colon..]) : (scheme, authority, "");
    }

    private static string JoinUrl(string scheme, string host, AddressFamily family, string port) =>
        $"{scheme}://{(family == AddressFamily.InterNetworkV6 ? "[" + host + "]" : host)}{port}";

    private static void TryAddTimeProvider(this IServiceCollection services) =>
        services.TryAddKeyedSingleton(ClusterClock.Key, TimeProvider.System);
}

/// <summary>What <see cref="SiloServiceCollectionExtensions.AddSilo"/> decided.</summary>
/// <param name="DataDirectory">The absolute data directory.</param>
/// <param name="Embedded">True for embedded mode (SQLite, logical nodes), false for cluster mode (PostgreSQL).</param>
/// <param name="SiloName">The silo's name in the cluster (Orleans' silo name, the nodes' <c>SiloId</c>).</param>
public sealed record SiloSetup(string DataDirectory, bool Embedded, string SiloName);

/// <summary>Applies (or, with <c>--no-migrate</c>, checks) the SQL schema as the silo's first start-up step.</summary>
/// <remarks>
/// A silo lifecycle participant at <see cref="ServiceLifecycleStage.First"/>: before membership, storage and reminders,
/// which read their queries from the schema.
/// </remarks>
internal sealed class SchemaMigrationParticipant(SchemaMigrationOptions options, ILogger<SchemaMigrator> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SchemaMigrationParticipant), ServiceLifecycleStage.First, MigrateAsync);

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        SchemaMigrationResult result;
        try
        {
            result = await new SchemaMigrator(options, logger).MigrateAsync(cancellationToken);
        }
        catch (Exception ex) when (options.Dialect == SqlDialect.PostgreSql && ex is Npgsql.NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            var server = new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString) is var b ? $"{b.Host}:{b.Port}" : "?";
            throw new InvalidOperationException($"the PostgreSQL database at {server} cannot be reached: {ex.Message}", ex);
        }

        if (!options.Migrate && result.Pending.Count > 0)
        {
            throw new InvalidOperationException(
                $"the database schema is at version {result.DatabaseVersion} and {result.Pending.Count} script(s) are not applied " +
                $"({string.Join(", ", result.Pending.Select(s => s.FileName))}); apply deploy/sql/ or start without --no-migrate.");
        }
    }
}
