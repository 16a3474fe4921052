using Xmbl.Cluster.Runtime.Persistence;
using Xmbl.Cluster.Runtime.Tests.Support;
using Xmbl.Cluster.Testing;

namespace Xmbl.Cluster.Runtime.Tests.Conformance;

/// <summary>Base of every conformance kit: subclasses say how to get a fresh empty database.</summary>
public abstract class BackendTestBase : IAsyncLifetime
{
    private readonly List<IPersistenceBackend> _backends = [];

    protected ManualTimeProvider Time { get; } = new();

    /// <summary>A fresh, empty database.</summary>
    protected abstract Task<BackendTarget> NewTargetAsync();

    /// <summary>An initialized backend over <paramref name="target"/> (a fresh database if null).</summary>
    internal async Task<IPersistenceBackend> OpenBackendAsync(BackendTarget? target = null)
    {
        target ??= await NewTargetAsync();
        var backend = await BackendFactory.CreateAsync(target, Time);
        _backends.Add(backend);
        LastTarget = target;
        return backend;
    }

    /// <summary>The database of the last backend opened, so a silo can share it.</summary>
    protected BackendTarget LastTarget { get; private set; } = null!;

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }
    }
}

/// <summary>Fresh SQLite files for a test class.</summary>
public abstract class SqliteBackendTestBase : BackendTestBase
{
    private readonly SqliteTargets _targets = new();

    protected override Task<BackendTarget> NewTargetAsync() => Task.FromResult<BackendTarget>(_targets.New());

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _targets.Dispose();
    }
}
