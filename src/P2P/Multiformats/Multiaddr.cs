using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Xmbl.Cluster.P2P.Multiformats;

/// <summary>A multiaddr: a self-describing network address such as <c>/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…</c>.</summary>
/// <remarks>
/// Supports <c>/ip4</c>, <c>/ip6</c>, <c>/tcp</c>, <c>/dns</c>, <c>/dns4</c>, <c>/dns6</c> and <c>/p2p</c> (alias <c>/ipfs</c>), in text
/// and binary form. The binary form is the canonical value; the text form is derived from it.
/// </remarks>
public sealed class Multiaddr : IEquatable<Multiaddr>
{
    /// <summary>Multicodec of <c>/ip4</c>.</summary>
    public const int Ip4 = 4;
    /// <summary>Multicodec of <c>/tcp</c>.</summary>
    public const int Tcp = 6;
    /// <summary>Multicodec of <c>/ip6</c>.</summary>
    public const int Ip6 = 41;
    /// <summary>Multicodec of <c>/dns</c>.</summary>
    public const int Dns = 53;
    /// <summary>Multicodec of <c>/dns4</c>.</summary>
    public const int Dns4 = 54;
    /// <summary>Multicodec of <c>/dns6</c>.</summary>
    public const int Dns6 = 55;
    /// <summary>Multicodec of <c>/p2p</c>.</summary>
    public const int P2p = 421;

    // A DNS name is at most 253 characters; a multihash of a peer id stays well under 128 bytes.
    private const int MaxVariableLength = 255;

    private readonly byte[] _bytes;
    private readonly MultiaddrComponent[] _components;

    private Multiaddr(byte[] bytes, MultiaddrComponent[] components)
    {
        _bytes = bytes;
        _components = components;
    }

    /// <summary>The binary form.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>The components, in order.</summary>
    public IReadOnlyList<MultiaddrComponent> Components => _components;

    /// <summary>The peer id of a trailing <c>/p2p</c> component, or null.</summary>
    public PeerId? PeerId => _components.Length > 0 && _components[^1].Code == P2p ? P2P.PeerId.FromBytes(_components[^1].Value.Span) : null;

    /// <summary>Parses the text form.</summary>
    /// <exception cref="FormatException">Unknown protocol, missing or bad value.</exception>
    public static Multiaddr Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0 || text[0] != '/')
        {
            throw new FormatException($"A multiaddr starts with '/': '{text}'.");
        }

        var parts = text.Split('/');
        var components = new List<MultiaddrComponent>();
        var i = 1;
        while (i < parts.Length)
        {
            var name = parts[i++];
            if (name.Length == 0 && i == parts.Length)
            {
                break; // a trailing slash
            }

            var code = name switch
            {
                "ip4" => Ip4,
                "tcp" => Tcp,
                "ip6" => Ip6,
                "dns" => Dns,
                "dns4" => Dns4,
                "dns6" => Dns6,
                "p2p" or "ipfs" => P2p,
                _ => throw new FormatException($"Unsupported multiaddr protocol '/{name}' in '{text}'."),
            };
            if (i >= parts.Length || parts[i].Length == 0)
            {
                throw new FormatException($"'/{name}' needs a value in '{text}'.");
            }

            components.Add(new MultiaddrComponent(code, ParseValue(code, parts[i++])));
        }

        return components.Count == 0 ? throw new FormatException("An empty multiaddr.") : FromComponents(components);
    }

    /// <summary>Parses the text form, returning false instead of throwing.</summary>
    public static bool TryParse(string? text, out Multiaddr? address)
    {
        address = null;
        if (text is null)
        {
            return false;
        }

        try
        {
            address = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Decodes the binary form.</summary>
    /// <exception cref="FormatException">Truncated, unknown protocol or a bad value.</exception>
    public static Multiaddr FromBytes(ReadOnlySpan<byte> bytes)
    {
        var components = new List<MultiaddrComponent>();
        var rest = bytes;
        while (!rest.IsEmpty)
        {
            var code = Varint.Read(rest, out var n, 3);
            rest = rest[n..];
            int length;
            switch (code)
            {
                case Ip4: length = 4; break;
                case Tcp: length = 2; break;
                case Ip6: length = 16; break;
                case Dns or Dns4 or Dns6 or P2p:
                    var len = Varint.Read(rest, out n, 2);
                    rest = rest[n..];
                    if (len == 0 || len > MaxVariableLength)
                    {
                        throw new FormatException($"A multiaddr value of {len} bytes for code {code}.");
                    }

                    length = (int)len;
                    break;
                default:
                    throw new FormatException($"Unsupported multiaddr protocol code {code}.");
            }

            if (rest.Length < length)
            {
                throw new FormatException("A truncated multiaddr.");
            }

            var value = rest[..length].ToArray();
            if (code == P2p)
            {
                _ = P2P.PeerId.FromBytes(value);
            }
            else if (code is Dns or Dns4 or Dns6)
            {
                ValidateDnsName(Encoding.UTF8.GetString(value));
            }

            components.Add(new MultiaddrComponent((int)code, value));
            rest = rest[length..];
        }

        return components.Count == 0 ? throw new FormatException("An empty multiaddr.") : new Multiaddr(bytes.ToArray(), [.. components]);
    }

    /// <summary>The multiaddr of a TCP endpoint: <c>/ip4/…/tcp/…</c> or <c>/ip6/…/tcp/…</c>.</summary>
    public static Multiaddr FromEndPoint(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        var ip = address.AddressFamily == AddressFamily.InterNetwork
            ? new MultiaddrComponent(Ip4, address.GetAddressBytes())
            : new MultiaddrComponent(Ip6, address.GetAddressBytes());
        var port = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(port, (ushort)endPoint.Port);
        return FromComponents([ip, new MultiaddrComponent(Tcp, port)]);
    }

    /// <summary>This address with <c>/p2p/&lt;peer&gt;</c> appended (replacing an existing one).</summary>
    public Multiaddr WithPeerId(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var components = WithoutPeerId()._components.ToList();
        components.Add(new MultiaddrComponent(P2p, peer.Bytes.ToArray()));
        return FromComponents(components);
    }

    /// <summary>This address without a trailing <c>/p2p</c> component.</summary>
    public Multiaddr WithoutPeerId() =>
        _components.Length > 1 && _components[^1].Code == P2p ? FromComponents(_components[..^1]) : this;

    /// <summary>The host and TCP port, when the address is <c>/ip4|ip6|dns*/…/tcp/…</c> (optionally followed by <c>/p2p</c>).</summary>
    public bool TryGetTcpTarget(out string host, out int port, out AddressFamily family)
    {
        host = "";
        port = 0;
        family = AddressFamily.Unspecified;
        if (_components.Length < 2 || _components[1].Code != Tcp || (_components.Length > 2 && (_components.Length != 3 || _components[2].Code != P2p)))
        {
            return false;
        }

        var first = _components[0];
        switch (first.Code)
        {
            case Ip4:
                host = new IPAddress(first.Value.Span).ToString();
                family = AddressFamily.InterNetwork;
                break;
            case Ip6:
                host = new IPAddress(first.Value.Span).ToString();
                family = AddressFamily.InterNetworkV6;
                break;
            case Dns or Dns4 or Dns6:
                host = Encoding.UTF8.GetString(first.Value.Span);
                family = first.Code switch { Dns4 => AddressFamily.InterNetwork, Dns6 => AddressFamily.InterNetworkV6, _ => AddressFamily.Unspecified };
                break;
            default:
                return false;
        }

        port = BinaryPrimitives.ReadUInt16BigEndian(_components[1].Value.Span);
        return true;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var c in _components)
        {
            sb.Append('/').Append(c.Name).Append('/').Append(c.ValueText);
        }

        return sb.ToString();
    }

    /// <inheritdoc/>
    public bool Equals(Multiaddr? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Multiaddr);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    private static Multiaddr FromComponents(IEnumerable<MultiaddrComponent> components)
    {
        var list = components.ToArray();
        var buffer = new List<byte>();
        Span<byte> scratch = stackalloc byte[Varint.MaxLength64];
        foreach (var c in list)
        {
            buffer.AddRange(scratch[..Varint.Write(scratch, (ulong)c.Code)]);
            if (c.Code is Dns or Dns4 or Dns6 or P2p)
            {
                buffer.AddRange(scratch[..Varint.Write(scratch, (ulong)c.Value.Length)]);
            }

            buffer.AddRange(c.Value.Span);
        }

        return new Multiaddr([.. buffer], list);
    }

    private static byte[] ParseValue(int code, string text)
    {
        switch (code)
        {
            case Ip4:
                if (!IPAddress.TryParse(text, out var v4) || v4.AddressFamily != AddressFamily.InterNetwork || text.Count(c => c == '.') != 3)
                {
                    throw new FormatException($"'{text}' is not an IPv4 address.");
                }

                return v4.GetAddressBytes();
            case Ip6:
                if (!IPAddress.TryParse(text, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6 || v6.ScopeId != 0)
                {
                    throw new FormatException($"'{text}' is not an IPv6 address.");
                }

                return v6.GetAddressBytes();
            case Tcp:
                if (!ushort.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port))
                {
                    throw new FormatException($"'{text}' is not a TCP port (0-65535).");
                }

                var bytes = new byte[2];
                BinaryPrimitives.WriteUInt16BigEndian(bytes, port);
                return bytes;
            case P2p:
                return P2P.PeerId.Parse(text).Bytes.ToArray();
            default:
                ValidateDnsName(text);
                return Encoding.UTF8.GetBytes(text);
        }
    }

    private static void ValidateDnsName(string name)
    {
        if (name.Length is 0 or > 253 || name.Any(c => c is '/' or <= ' ' or > '~'))
        {
            throw new FormatException($"'{name}' is not a DNS name.");
        }
    }
}

/// <summary>One <c>/name/value</c> part of a <see cref="Multiaddr"/>.</summary>
/// <param name="Code">The protocol's multicodec.</param>
/// <param name="Value">The binary value (no length prefix).</param>
public readonly record struct MultiaddrComponent(int Code, ReadOnlyMemory<byte> Value)
{
    /// <summary>The protocol name, as written in text.</summary>
    public string Name => Code switch
    {
        Multiaddr.Ip4 => "ip4",
        Multiaddr.Tcp => "tcp",
        Multiaddr.Ip6 => "ip6",
        Multiaddr.Dns => "dns",
        Multiaddr.Dns4 => "dns4",
        Multiaddr.Dns6 => "dns6",
        Multiaddr.P2p => "p2p",
        _ => Code.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The value, as written in text.</summary>
    public string ValueText => Code switch
    {
        Multiaddr.Ip4 or Multiaddr.Ip6 => new IPAddress(Value.Span).ToString(),
        Multiaddr.Tcp => BinaryPrimitives.ReadUInt16BigEndian(Value.Span).ToString(System.Globalization.CultureInfo.InvariantCulture),
        Multiaddr.P2p => PeerId.FromBytes(Value.Span).ToString(),
        _ => Encoding.UTF8.GetString(Value.Span),
    };
}
