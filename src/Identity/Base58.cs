using System.Numerics;

namespace Xmbl.Cluster.Identity;

/// <summary>Base58 with the Bitcoin alphabet (base58btc), as used by did:key and libp2p peer ids.</summary>
public static class Base58
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    private static readonly sbyte[] Decoding = BuildDecodingTable();

    /// <summary>Encodes bytes as base58btc text; leading zero bytes become leading '1's.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        var zeros = 0;
        while (zeros < data.Length && data[zeros] == 0)
        {
            zeros++;
        }

        // Big-endian base-256 to base-58 by repeated division; inputs here are short (keys, hashes).
        var value = new BigInteger(data, isUnsigned: true, isBigEndian: true);
        var digits = new List<char>(data.Length * 138 / 100 + 1);
        while (value > 0)
        {
            value = BigInteger.DivRem(value, 58, out var remainder);
            digits.Add(Alphabet[(int)remainder]);
        }

        digits.AddRange(Enumerable.Repeat('1', zeros));
        digits.Reverse();
        return new string([.. digits]);
    }

    /// <summary>Decodes base58btc text.</summary>
    /// <exception cref="FormatException">The text has a character outside the alphabet.</exception>
    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var zeros = 0;
        while (zeros < text.Length && text[zeros] == '1')
        {
            zeros++;
        }

        BigInteger value = 0;
        foreach (var c in text)
        {
            var digit = c < 128 ? Decoding[c] : (sbyte)-1;
            if (digit < 0)
            {
                throw new FormatException($"'{c}' is not a base58 character.");
            }

            value = value * 58 + digit;
        }

        var body = value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var result = new byte[zeros + body.Length];
        body.CopyTo(result, zeros);
        return result;
    }

    private static sbyte[] BuildDecodingTable()
    {
        var table = new sbyte[128];
        Array.Fill(table, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++)
        {
            table[Alphabet[i]] = (sbyte)i;
        }

        return table;
    }
}
