using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Xmbl.Cluster.Persistence.Sql.Internal;
using Xmbl.Cluster.Persistence.Sql.Options;

namespace Xmbl.Cluster.Persistence.Sql.Sqlite;

/// <summary>
/// Orleans grain storage on a SQLite file (embedded mode) that commits the writes of many grains in one transaction.
/// Same contract as Orleans' AdoNet provider: the ETag is the row's version as an invariant integer, a write or clear
/// naming a stale version, or a first write when a row exists, throws <see cref="InconsistentStateException"/>; a clear
/// keeps the row without payload and bumps the version (or deletes it with <see cref="SqliteGrainStorageOptions.DeleteStateOnClear"/>).
/// </summary>
/// <remarks>
/// Rows live in <c>xmbl_grain_state</c> (schema script 0004), keyed by the state name Orleans passes and the grain's
/// string key (<c>GrainId.Key</c>), so <see cref="SqliteGrainStateQuery"/> can list them. A write's task completes only
/// after its transaction committed. Register with <c>AddSqliteGrainStorage</c>.
/// </remarks>
public sealed partial class SqliteGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly string _name;
    private readonly SqliteGrainStorageOptions _options;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider _activators;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SqliteStateStore _store;

    /// <summary>Creates the storage; the database is opened at the silo's <see cref="SqliteGrainStorageOptions.InitStage"/>, or on first use.</summary>
    /// <exception cref="ArgumentException">The options are unusable (the message names the setting).</exception>
    public SqliteGrainStorage(string name, SqliteGrainStorageOptions options, IActivatorProvider activators, ILogger<SqliteGrainStorage>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(activators);
        if (SqliteGrainStorageOptionsValidator.Check(options, name) is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }

        _name = name;
        _options = options;
        _serializer = options.GrainStorageSerializer ?? GrainStateJsonSerializer.Default;
        _activators = activators;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<SqliteGrainStorage>.Instance;
        _store = new SqliteStateStore(name, options.ConnectionString, options.Synchronous, options.BusyTimeoutSeconds, options.MaxBatchSize, _logger);
    }

    /// <summary>The provider name (the <c>storageName</c> of <c>[PersistentState]</c>).</summary>
    public string Name => _name;

    /// <summary>Transactions committed so far; with <see cref="LargestBatch"/>, how much writes were grouped.</summary>
    internal long Transactions => _store.Transactions;

    /// <summary>The most writes committed in one transaction so far.</summary>
    internal int LargestBatch => _store.LargestBatch;

    /// <summary>Creates the storage registered under <paramref name="name"/> from the service provider.</summary>
    public static SqliteGrainStorage Create(IServiceProvider services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get(name);
        // The silo builds its storages before it runs the configuration validators: the same error either way.
        new SqliteGrainStorageOptionsValidator(options, name).ValidateConfiguration();
        return new SqliteGrainStorage(
            name,
            options,
            services.GetRequiredService<IActivatorProvider>(),
            services.GetService<ILogger<SqliteGrainStorage>>(),
            services.GetService<TimeProvider>());
    }

    /// <inheritdoc/>
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe($"{nameof(SqliteGrainStorage)}-{_name}", _options.InitStage, StartAsync, StopAsync);
    }

    /// <inheritdoc/>
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(grainState);
            Read(stateName, grainId.Key.ToString(), grainState);
            return Task.CompletedTask;
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }

    /// <inheritdoc/>
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        ArgumentNullException.ThrowIfNull(grainState);
        var key = grainId.Key.ToString();
        var expected = ParseETag(stateName, key, grainState.ETag);
        var payload = ToArray(_serializer.Serialize(grainState.State));
        var write = new StateWrite(expected is null ? StateWriteKind.Insert : StateWriteKind.Update, stateName, key, expected ?? 0, payload, NowMs());
        var version = await _store.WriteAsync(write).ConfigureAwait(false)
            ?? throw Conflict("WriteState", stateName, key, grainState.ETag);
        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <inheritdoc/>
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        ArgumentNullException.ThrowIfNull(grainState);
        var key = grainId.Key.ToString();
        if (!grainState.RecordExists)
        {
            // As the AdoNet provider: a grain that holds no record learns the current version first; nothing to clear
            // if there is no state.
            Read(stateName, key, grainState);
            if (!grainState.RecordExists)
            {
                return;
            }
        }

        var expected = ParseETag(stateName, key, grainState.ETag)
            ?? throw Conflict("ClearState", stateName, key, grainState.ETag);
        var write = new StateWrite(_options.DeleteStateOnClear ? StateWriteKind.Delete : StateWriteKind.Update, stateName, key, expected, null, NowMs());
        var version = await _store.WriteAsync(write).ConfigureAwait(false)
            ?? throw Conflict("ClearState", stateName, key, grainState.ETag);
        grainState.ETag = _options.DeleteStateOnClear ? null : version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = false;
        grainState.State = _activators.GetActivator<T>().Create();
    }

    /// <summary>Closes the database (queued writes are committed first).</summary>
    public void Dispose() => _store.Dispose();

    private void Read<T>(string stateName, string key, IGrainState<T> grainState)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        var row = _store.Read(stateName, key);
        T? state = default;
        if (row?.Payload is { } payload)
        {
            try
            {
                state = _serializer.Deserialize<T>(new BinaryData(payload));
            }
            catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
            {
                LogUnreadable(_logger, e, _name, stateName, key);
                throw new GrainStateReadException(stateName, key, typeof(T), e);
            }
        }

        grainState.State = state ?? _activators.GetActivator<T>().Create();
        grainState.ETag = row?.Version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = row?.Payload is not null;
    }

    private Task StartAsync(CancellationToken ct)
    {
        try
        {
            _store.Open();
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"SQLite grain storage '{_name}' cannot open '{_store.FullPath}': {e.Message} Check that the directory exists or can be " +
                "created and is writable by this process, and that the file is a SQLite database.", e);
        }

        LogStarted(_logger, _name, _store.FullPath, _options.Synchronous, _options.MaxBatchSize);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken ct)
    {
        await _store.CloseAsync().WaitAsync(ct).ConfigureAwait(false);
        LogStopped(_logger, _name);
    }

    private long NowMs() => _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    private long? ParseETag(string stateName, string key, string? etag) =>
        string.IsNullOrEmpty(etag) ? null
        : long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0 ? version
        : throw new InconsistentStateException($"ETag '{etag}' of grain state '{stateName}' key '{key}' in storage '{_name}' is not a version this storage wrote.", etag, "(unknown)");

    private InconsistentStateException Conflict(string operation, string stateName, string key, string? etag) =>
        new($"Version conflict ({operation}): storage '{_name}', state '{stateName}', grain key '{key}', ETag {etag ?? "(none)"}: the stored version is another; the grain's state is stale or another activation wrote it.");

    private static byte[] ToArray(BinaryData data)
    {
        var memory = data.ToMemory();
        return MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();
    }

    [LoggerMessage(EventId = PersistenceSqlEventId.GrainStorageStarted, Level = LogLevel.Information, Message = "SQLite grain storage {Name} opened {Path} (synchronous={Synchronous}, at most {MaxBatchSize} writes per transaction).")]
    private static partial void LogStarted(ILogger logger, string name, string path, SqliteSynchronous synchronous, int maxBatchSize);

    [LoggerMessage(EventId = PersistenceSqlEventId.GrainStateUnreadable, Level = LogLevel.Error, Message = "SQLite grain storage {Name}: the stored state '{StateName}' of grain key '{Key}' cannot be deserialized; the grain is not given empty state instead.")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string name, string stateName, string key);

    [LoggerMessage(EventId = PersistenceSqlEventId.GrainStorageStopped, Level = LogLevel.Information, Message = "SQLite grain storage {Name} committed its queued writes and closed the database.")]
    private static partial void LogStopped(ILogger logger, string name);
}
