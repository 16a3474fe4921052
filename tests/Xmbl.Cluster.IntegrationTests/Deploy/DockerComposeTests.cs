using System.Text.Json;
using Npgsql;
using Xmbl.Cluster.IntegrationTests.Jobs;
using Xmbl.Cluster.IntegrationTests.Support;
using Xmbl.Cluster.Hosting;
using Xmbl.Cluster.Testing;
using Xmbl.Cluster.Testing.Processes;

namespace Xmbl.Cluster.IntegrationTests.Deploy;

/// <summary>
/// docker-compose.yml and the Dockerfiles, checked against the code (there is no Docker engine here), then the same
/// topology started as processes with the compose file's settings: service names mapped to 127.0.0.1, ports to free ones.
/// </summary>
[Trait("Suite", "Postgres")]
[Collection(PostgresCollection.Name)]
public sealed class DockerComposeTests(PostgresFixture postgres) : IDisposable
{
    private static readonly Dictionary<string, string> Variables = new(StringComparer.Ordinal)
    {
        ["POSTGRES_PASSWORD"] = "compose-test-password",
        ["XMBL_CLUSTER_SECRET"] = "compose-test-cluster-secret-0123456789",
    };

    private static readonly string[] Silos = ["silo1", "silo2", "silo3"];

    private readonly TempDirectory _data = new("xmbl-compose");

    public void Dispose() => _data.Dispose();

    private static ComposeFile Compose => ComposeFile.Load(Repository.PathOf("docker-compose.yml"), Variables);

    [Fact]
    public void ComposeFile_RequiresTheSecretAndThePassword_InsteadOfShippingDefaults()
    {
        var withoutSecret = new Dictionary<string, string>(Variables);
        withoutSecret.Remove("XMBL_CLUSTER_SECRET");
        var withoutPassword = new Dictionary<string, string>(Variables);
        withoutPassword.Remove("POSTGRES_PASSWORD");

        Assert.Contains("XMBL_CLUSTER_SECRET", Assert.Throws<InvalidOperationException>(() => ComposeFile.Load(Repository.PathOf("docker-compose.yml"), withoutSecret)).Message, StringComparison.Ordinal);
        Assert.Contains("POSTGRES_PASSWORD", Assert.Throws<InvalidOperationException>(() => ComposeFile.Load(Repository.PathOf("docker-compose.yml"), withoutPassword)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ComposeFile_ServicesVariablesPortsVolumesAndHealthChecks_MatchWhatTheCodeReads()
    {
        var compose = Compose;
        Assert.Equal(["gateway", "postgres", "silo1", "silo2", "silo3"], compose.Services.Keys.Order(StringComparer.Ordinal));

        var postgresService = compose.Services["postgres"];
        Assert.NotEmpty(postgresService.HealthCheck);
        Assert.Contains(postgresService.Volumes, v => v.EndsWith(":/var/lib/postgresql/data", StringComparison.Ordinal));

        foreach (var name in Silos.Append("gateway"))
        {
            var service = compose.Services[name];
            var isSilo = name != "gateway";
            var switches = isSilo ? ConfigurationKeys.SiloSwitches : ConfigurationKeys.GatewaySwitches;
            var dockerfile = Dockerfile.Load(Repository.PathOf(service.Dockerfile ?? throw new Xunit.Sdk.XunitException($"{name} has no build.dockerfile")));
            Assert.Equal(isSilo ? "Xmbl.Cluster.Silo.dll" : "Xmbl.Cluster.Gateway.Host.dll", dockerfile.Entrypoint[^1]);

            // Every variable the image and the service set is one the program reads.
            var environment = Merged(dockerfile.Environment, service.Environment);
            foreach (var variable in environment.Keys)
            {
                Assert.True(ConfigurationKeys.IsKnownVariable(variable, switches), $"{name}: {variable} is not read by the {(isSilo ? "silo" : "gateway")}");
            }

            foreach (var flag in service.Command.Where(a => a.StartsWith("--", StringComparison.Ordinal)))
            {
                Assert.True(switches.ContainsKey(flag) || ConfigurationKeys.IsKnown(flag[2..]), $"{name}: {flag} is not an option of the program");
            }

            // What makes a cluster: the same database, secret and cluster id as the others.
            Assert.Equal(compose.Services["silo1"].Environment["XMBL_POSTGRES"], environment["XMBL_POSTGRES"]);
            Assert.Equal(Variables["XMBL_CLUSTER_SECRET"], environment["XMBL_CLUSTER_SECRET"]);
            Assert.Contains("Host=postgres;", environment["XMBL_POSTGRES"], StringComparison.Ordinal);

            // It listens on every interface at the port its health check, its EXPOSE and (gateway) its published port use.
            var url = new Uri(environment["ASPNETCORE_URLS"]);
            Assert.Equal("0.0.0.0", url.Host);
            Assert.Contains(url.Port, dockerfile.Exposed);
            foreach (var check in new[] { service.HealthCheck, dockerfile.HealthCheck })
            {
                var command = string.Join(' ', check);
                Assert.Contains($"/dev/tcp/127.0.0.1/{url.Port} ", command, StringComparison.Ordinal);
                Assert.Contains("GET /healthz ", command, StringComparison.Ordinal);
                Assert.Contains("' 200 '", command, StringComparison.Ordinal);
            }

            // State in a named volume mounted where the program keeps its data.
            Assert.Contains($"{name}:{environment["XMBL_DATA"]}", service.Volumes);
            Assert.Contains(name, compose.Volumes);
            Assert.Contains(environment["XMBL_DATA"], dockerfile.Volumes);

            if (isSilo)
            {
                // Each silo announces its own service name, never the wildcard it listens on.
                Assert.Equal(name, environment["XMBL_ADVERTISE"]);
                Assert.Equal(name, environment["XMBL_SILO_ID"]);
                Assert.Equal("service_healthy", service.DependsOn["postgres"]);
                Assert.Empty(service.Ports);
            }
            else
            {
                Assert.All(Silos, s => Assert.Equal("service_healthy", service.DependsOn[s]));
                Assert.Equal([$"{url.Port}:{url.Port}"], service.Ports);
            }
        }
    }

    [Fact]
    public void Dockerfiles_BuildWithTheSdk_RunOnTheAspNetRuntimeAsANonRootUser()
    {
        var sdk = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("global.json"))).RootElement.GetProperty("sdk").GetProperty("version").GetString()!;
        foreach (var path in new[] { "deploy/silo.Dockerfile", "deploy/gateway.Dockerfile" })
        {
            var dockerfile = Dockerfile.Load(Repository.PathOf(path));
            var stages = dockerfile.Stages.ToList();

            Assert.Equal(2, stages.Count);
            Assert.Equal($"mcr.microsoft.com/dotnet/sdk:{sdk.Split('.')[0]}.0 AS build", stages[0]);
            Assert.StartsWith($"mcr.microsoft.com/dotnet/aspnet:{sdk.Split('.')[0]}.0", stages[1], StringComparison.Ordinal);
            Assert.Contains(dockerfile.Final, i => i.Instruction == "COPY" && i.Arguments.StartsWith("--from=build ", StringComparison.Ordinal));
            Assert.Equal("$APP_UID", dockerfile.User);
            Assert.NotEmpty(dockerfile.HealthCheck);
            Assert.Equal(["dotnet", dockerfile.Entrypoint[1]], dockerfile.Entrypoint);

            // The build copies only what exists and what the build reads.
            foreach (var (_, arguments) in dockerfile.Instructions.Where(i => i.Instruction == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal)))
            {
                foreach (var source in arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1))
                {
                    Assert.True(File.Exists(Repository.PathOf(source)) || Directory.Exists(Repository.PathOf(source)), $"{path} copies {source}, which does not exist");
                }
            }
        }
    }

    [Fact]
    public void DockerIgnore_KeepsBuildOutputsStateAndTestResultsOutOfTheBuildContext()
    {
        var ignored = File.ReadAllLines(Repository.PathOf(".dockerignore")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet(StringComparer.Ordinal);

        Assert.Superset(new HashSet<string>(["**/bin/", "**/obj/", "**/data/", "**/node_modules/", "**/TestResults/", ".git/"], StringComparer.Ordinal), ignored);
        // Nothing the Dockerfiles copy is ignored.
        Assert.DoesNotContain("src/", ignored);
        Assert.DoesNotContain("deploy/", ignored);
    }

    [Fact]
    public async Task ComposeTopology_StartedAsProcessesWithItsSettings_FormsOneClusterThatTheGatewayServes()
    {
        var compose = Compose;

        // The postgres service's role and database, on the throwaway server (which trusts local connections).
        var pg = compose.Services["postgres"].Environment;
        await using (var connection = new NpgsqlConnection(postgres.Server.AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var role = new NpgsqlCommand($"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{pg["POSTGRES_USER"]}') THEN CREATE ROLE \"{pg["POSTGRES_USER"]}\" LOGIN; END IF; END $$", connection);
            await role.ExecuteNonQueryAsync();
            await using var exists = new NpgsqlCommand($"SELECT count(*) FROM pg_database WHERE datname = '{pg["POSTGRES_DB"]}'", connection);
            if ((long)(await exists.ExecuteScalarAsync())! == 0)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{pg["POSTGRES_DB"]}\" OWNER \"{pg["POSTGRES_USER"]}\"", connection);
                await create.ExecuteNonQueryAsync();
            }
        }

        var processes = new List<SiloProcess>();
        try
        {
            // In depends_on order: the silos (together, as Compose starts them once postgres is healthy), then the gateway.
            var silos = Silos.Select(name => Start(compose.Services[name])).ToList();
            processes.AddRange(silos);
            foreach (var silo in silos)
            {
                await silo.WaitHealthyAsync();
            }

            var gateway = Start(compose.Services["gateway"]);
            processes.Add(gateway);
            await gateway.WaitHealthyAsync();

            var cluster = await gateway.GetJsonAsync("/api/cluster");
            var active = cluster.GetProperty("silos").EnumerateArray().Where(s => s.Text("status") == "Active").Select(s => s.Text("id")).Order(StringComparer.Ordinal);
            var nodes = cluster.GetProperty("nodes").EnumerateArray().ToList();
            Assert.Equal(Silos, active);
            Assert.Equal(Silos, nodes.Select(n => n.Text("siloId")).Order(StringComparer.Ordinal));
            Assert.All(nodes, n => Assert.Equal("alive", n.Text("status")));
            // Each node announces its silo's advertised name (mapped to 127.0.0.1 here) and port, not 0.0.0.0.
            Assert.Equal(
                silos.Select(s => s.BaseAddress.ToString().TrimEnd('/')).Order(StringComparer.Ordinal),
                nodes.Select(n => n.Text("address")).Order(StringComparer.Ordinal));

            // Through the gateway: a job runs on the silos' nodes, an object's shards travel to their announced addresses.
            var hash = await JobsApi.UploadAsync(gateway, "hello.wasm");
            var job = await JobsApi.SubmitAsync(gateway, new System.Text.Json.Nodes.JsonObject { ["module"] = hash, ["validators"] = 1 });
            await gateway.Http.GetStringAsync(new Uri($"/api/jobs/{job}/events", UriKind.Relative));
            Assert.Equal("Hello, world!\n", await JobsApi.OutputAsync(gateway, job));

            var data = new byte[1_000_000];
            new Random(7).NextBytes(data);
            using (var put = await gateway.Http.PutAsync(new Uri("/api/objects/compose/check.bin", UriKind.Relative), new ByteArrayContent(data)))
            {
                Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            }

            Assert.Equal(data, await silos[2].Http.GetByteArrayAsync(new Uri("/api/objects/compose/check.bin", UriKind.Relative)));
        }
        finally
        {
            foreach (var process in Enumerable.Reverse(processes))
            {
                await process.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Starts a service's program as Compose would run its image: the Dockerfile's ENV, then the service's environment
    /// and command, with every service name mapped to 127.0.0.1, each listening port to a free one and /data to a temp directory.
    /// </summary>
    private SiloProcess Start(ComposeService service)
    {
        var dockerfile = Dockerfile.Load(Repository.PathOf(service.Dockerfile!));
        var environment = Merged(dockerfile.Environment, service.Environment);
        var data = Path.Combine(_data.Path, service.Name);
        Directory.CreateDirectory(data);
        environment["XMBL_DATA"] = data;

        var listen = new Uri(environment["ASPNETCORE_URLS"]);
        var address = new Uri($"http://127.0.0.1:{TcpPorts.Free()}");
        environment["ASPNETCORE_URLS"] = address.ToString().TrimEnd('/');
        if (dockerfile.Entrypoint[^1] == "Xmbl.Cluster.Silo.dll")
        {
            // The Orleans ports are the code's defaults in every container; on one host each silo needs its own.
            environment["XMBL_SILO_PORT"] = TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture);
            environment["XMBL_GATEWAY_PORT"] = TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        Assert.Equal("0.0.0.0", listen.Host);
        foreach (var name in environment.Keys.ToList())
        {
            environment[name] = MapHosts(name, environment[name]);
        }

        var dll = SiloProcess.ProgramDll(dockerfile.Entrypoint[^1] == "Xmbl.Cluster.Silo.dll" ? "Silo" : "Gateway.Host", dockerfile.Entrypoint[^1]);
        var command = service.Command.ToList();
        for (var i = 1; i < command.Count; i++)
        {
            if (ConfigurationKeys.SiloSwitches.TryGetValue(command[i - 1], out var key) && key == SiloConfiguration.AdvertisedAddressKey)
            {
                command[i] = MapHosts(key, command[i]);
            }
        }

        return SiloProcess.Launch(dll, address, data, command, environment);
    }

    /// <summary>A setting that names a host: the database's (in its connection string) or the address a silo advertises.</summary>
    private string MapHosts(string name, string value)
    {
        var key = name.StartsWith("XMBL_", StringComparison.Ordinal)
            ? ConfigurationKeys.SiloSwitches.FirstOrDefault(s => ConfigurationKeys.VariableOf(s.Key) == name).Value
            : name.Replace("__", ":", StringComparison.Ordinal);
        if (string.Equals(key, SiloConfiguration.ConnectionStringKey, StringComparison.OrdinalIgnoreCase))
        {
            var builder = new NpgsqlConnectionStringBuilder(value);
            Assert.Equal("postgres", builder.Host);
            builder.Host = "127.0.0.1";
            builder.Port = postgres.Server.Port;
            return builder.ConnectionString;
        }

        return string.Equals(key, SiloConfiguration.AdvertisedAddressKey, StringComparison.OrdinalIgnoreCase) && Compose.Services.ContainsKey(value) ? "127.0.0.1" : value;
    }

    private static Dictionary<string, string> Merged(IReadOnlyDictionary<string, string> image, IReadOnlyDictionary<string, string> service)
    {
        var merged = new Dictionary<string, string>(image, StringComparer.Ordinal);
        foreach (var (k, v) in service)
        {
            merged[k] = v;
        }

        return merged;
    }
}
