using System.Globalization;
using System.Security.Cryptography;

namespace Xmbl.Cluster.Storage.Tests.Codec;

/// <summary>One entry of /work/shared/ec-vectors/INDEX.txt: a stripe produced by klauspost/reedsolomon.</summary>
public sealed record EcVector(string File, int K, int M, int ShardSize, uint Seed, string Sha256)
{
    public override string ToString() => File;

    /// <summary>Reads the file, checks its SHA-256 against the index and splits it into k + m shards.</summary>
    public byte[][] LoadShards()
    {
        var bytes = System.IO.File.ReadAllBytes(Path.Combine(EcVectors.Directory, File));
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Assert.True(hash == Sha256, $"{File}: SHA-256 {hash} does not match INDEX.txt ({Sha256}).");
        Assert.Equal((K + M) * ShardSize, bytes.Length);
        var shards = new byte[K + M][];
        for (var i = 0; i < shards.Length; i++)
        {
            shards[i] = bytes.AsSpan(i * ShardSize, ShardSize).ToArray();
        }

        return shards;
    }

    /// <summary>The data shards as the README's generator defines them (independent of the file).</summary>
    public byte[][] GenerateData()
    {
        var x = Seed;
        var data = new byte[K][];
        for (var i = 0; i < K; i++)
        {
            data[i] = new byte[ShardSize];
            for (var j = 0; j < ShardSize; j++)
            {
                x = (uint)((((ulong)x * 1103515245UL) + 12345UL) & 0x7FFFFFFFUL);
                data[i][j] = (byte)((x >> 16) & 0xFF);
            }
        }

        return data;
    }
}

/// <summary>Locates the shared test vectors beside the repository clone and parses their index.</summary>
public static class EcVectors
{
    private static readonly Lazy<string> LazyDirectory = new(Locate);

    public static string Directory => LazyDirectory.Value;

    public static IReadOnlyList<EcVector> All { get; } = Load();

    /// <summary>xunit member data: one row per vector file.</summary>
    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var v in All)
            {
                data.Add(v.File);
            }

            return data;
        }
    }

    public static EcVector Get(string file) => All.Single(v => v.File == file);

    private static List<EcVector> Load()
    {
        var list = new List<EcVector>();
        foreach (var line in File.ReadAllLines(Path.Combine(Directory, "INDEX.txt")))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string Field(string name) => parts.Single(p => p.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
            list.Add(new EcVector(
                parts[0],
                int.Parse(Field("k"), CultureInfo.InvariantCulture),
                int.Parse(Field("m"), CultureInfo.InvariantCulture),
                int.Parse(Field("shard"), CultureInfo.InvariantCulture),
                uint.Parse(Field("seed"), CultureInfo.InvariantCulture),
                Field("sha256")));
        }

        if (list.Count == 0)
        {
            throw new InvalidOperationException($"No vectors listed in {Path.Combine(Directory, "INDEX.txt")}.");
        }

        return list;
    }

    // The shared folder is the repository's sibling: walk up from the test binaries to the directory holding
    // Xmbl.Cluster.sln, then look beside it.
    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Xmbl.Cluster.sln")))
            {
                var vectors = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "ec-vectors"));
                if (!File.Exists(Path.Combine(vectors, "INDEX.txt")))
                {
                    throw new InvalidOperationException(
                        $"Reed-Solomon test vectors not found at {vectors}: the 'shared' folder must sit beside the repository clone ({dir.FullName}).");
                }

                return vectors;
            }
        }

        throw new InvalidOperationException($"Could not find Xmbl.Cluster.sln above {AppContext.BaseDirectory} to locate ../shared/ec-vectors.");
    }
}
