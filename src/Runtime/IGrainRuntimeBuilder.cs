using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Xmbl.Cluster.Runtime;

/// <summary>Configures the grain runtime: the persistence backend (<c>Use…</c>) and the grain classes (<c>AddGrain</c>).</summary>
public interface IGrainRuntimeBuilder
{
    /// <summary>The service collection the runtime is registered in.</summary>
    IServiceCollection Services { get; }

    /// <summary>The configuration options were bound from, if one was given.</summary>
    IConfiguration? Configuration { get; }
}
