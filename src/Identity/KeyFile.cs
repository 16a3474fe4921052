using System.Security.Cryptography;
using System.Text;

namespace Xmbl.Cluster.Identity;

/// <summary>Loads or creates a key kept as a file (the 32-byte seed, base64), readable by the owner only.</summary>
public static class KeyFile
{
    /// <summary>Loads the key at <paramref name="path"/>, creating it (and its folder) on first use.</summary>
    /// <exception cref="InvalidDataException">The file exists but does not hold a key.</exception>
    public static Ed25519KeyPair LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            var text = File.ReadAllText(path).Trim();
            byte[] seed;
            try
            {
                seed = Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                throw new InvalidDataException($"Key file '{path}' is not base64. Restore it from a backup or delete it to create a new identity.");
            }

            if (seed.Length != Ed25519KeyPair.KeyLength)
            {
                throw new InvalidDataException($"Key file '{path}' holds {seed.Length} bytes; an Ed25519 seed is {Ed25519KeyPair.KeyLength}.");
            }

            return Ed25519KeyPair.FromSeed(seed);
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var pair = Ed25519KeyPair.Generate();

        // Write to a temp file created owner-only (never readable by others, not even for a moment) and rename,
        // so a crash never leaves a half-written key.
        var temp = path + ".tmp";
        var secret = pair.ExportSeed();
        try
        {
            File.Delete(temp); // a crashed run's leftover: CreateNew below must make the file, with our mode
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var writer = new StreamWriter(temp, Encoding.ASCII, options))
            {
                writer.Write(Convert.ToBase64String(secret));
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }

        File.Move(temp, path, overwrite: false);
        return pair;
    }
}
