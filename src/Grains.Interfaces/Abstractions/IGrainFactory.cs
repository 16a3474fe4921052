namespace Xmbl.Cluster;

/// <summary>Hands out references to grains; a reference is cheap and calls go straight to the grain's row.</summary>
public interface IGrainFactory
{
    /// <summary>Gets a reference to the grain of interface <typeparamref name="TGrain"/> with a string key.</summary>
    /// <typeparam name="TGrain">The grain interface.</typeparam>
    /// <param name="key">The grain's key; any non-empty string.</param>
    /// <returns>A reference whose every method runs as one transaction on the grain's state.</returns>
    TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey;

    /// <summary>Gets a reference to the grain of interface <typeparamref name="TGrain"/> with a <see cref="Guid"/> key.</summary>
    /// <typeparam name="TGrain">The grain interface.</typeparam>
    /// <param name="key">The grain's key.</param>
    /// <returns>A reference whose every method runs as one transaction on the grain's state.</returns>
    TGrain GetGrain<TGrain>(Guid key) where TGrain : IGrainWithGuidKey;
}
