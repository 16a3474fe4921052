using Xmbl.Cluster.Grains.Interfaces.Objects;
using Xmbl.Cluster.Grains.Objects;

namespace Xmbl.Cluster.Grains.Tests.Objects;

/// <summary>Whole-object puts and reads through <see cref="ObjectService"/>, and seeded test bytes, for the object tests.</summary>
internal static class ObjectServiceTestExtensions
{
    public static byte[] TestBytes(int length, int seed = 7)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static ObjectKey Key(string ns, string name)
    {
        Assert.True(ObjectKey.TryCreate(ns, name, out var key, out var error), error);
        return key;
    }

    public static async Task<StoredObject> PutBytesAsync(this ObjectService objects, string ns, string name, byte[] bytes)
    {
        using var body = new MemoryStream(bytes);
        return await objects.PutAsync(Key(ns, name), new ObjectWriteOptions(ObjectService.AnonymousAccount, "application/octet-stream"), bytes.Length, body, default);
    }

    public static async Task<byte[]> ReadBytesAsync(this ObjectService objects, string ns, string name)
    {
        var stored = await objects.GetAsync(Key(ns, name));
        Assert.NotNull(stored);
        using var content = new MemoryStream();
        await objects.ReadAsync(stored, content, 0, null, default);
        return content.ToArray();
    }
}
