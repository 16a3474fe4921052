using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;
using Xmbl.Cluster.Identity;
using Xmbl.Cluster.P2P.Multiformats;

namespace Xmbl.Cluster.P2P.Noise;

/// <summary>The outcome of a Noise handshake: the verified remote peer and the two transport ciphers.</summary>
internal sealed record NoiseSession(PeerId RemotePeer, PublicIdentity RemoteKey, NoiseCipher Sender, NoiseCipher Receiver, bool RemoteSupportsYamux, bool RemoteSentMuxerList);

/// <summary>Noise_XX_25519_ChaChaPoly_SHA256 with the libp2p handshake payload.</summary>
/// <remarks>
/// Each side proves its libp2p identity by signing <c>"noise-libp2p-static-key:" || static X25519 key</c> with its
/// Ed25519 key. The payload also lists <c>/yamux/1.0.0</c> as our stream muxer (early muxer negotiation).
/// </remarks>
internal sealed class NoiseHandshake : IDisposable
{
    public const string ProtocolId = "/noise";
    public const int MaxMessageLength = 65535;
    public const string YamuxProtocol = "/yamux/1.0.0";

    private const int DhLength = 32;
    private static readonly byte[] ProtocolName = "Noise_XX_25519_ChaChaPoly_SHA256"u8.ToArray();
    private static readonly byte[] SignaturePrefix = "noise-libp2p-static-key:"u8.ToArray();

    private readonly byte[] _ck = new byte[32];
    private readonly byte[] _h = new byte[32];
    private readonly System.Security.Cryptography.IncrementalHash _hash = System.Security.Cryptography.IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Key _static;
    private readonly Key _ephemeral;
    private readonly byte[] _staticPublic;
    private readonly byte[] _ephemeralPublic;
    private readonly Ed25519KeyPair _identity;
    private readonly bool _initiator;
    private readonly PeerId? _expectedRemote;
    private NoiseCipher? _cipher;
    private byte[]? _remoteEphemeral;
    private byte[]? _remoteStatic;

    public NoiseHandshake(Ed25519KeyPair identity, bool initiator, PeerId? expectedRemote)
    {
        _identity = identity;
        _initiator = initiator;
        _expectedRemote = expectedRemote;
        var exportable = new KeyCreationParameters { ExportPolicy = KeyExportPolicies.None };
        _static = Key.Create(KeyAgreementAlgorithm.X25519, exportable);
        _ephemeral = Key.Create(KeyAgreementAlgorithm.X25519, exportable);
        _staticPublic = _static.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        _ephemeralPublic = _ephemeral.PublicKey.Export(KeyBlobFormat.RawPublicKey);

        // The name is exactly 32 bytes, so h starts as the name itself; the empty prologue is still mixed in.
        ProtocolName.CopyTo(_h, 0);
        ProtocolName.CopyTo(_ck, 0);
        MixHash([]);
    }

    /// <summary>Runs the three handshake messages over the raw connection.</summary>
    public async Task<NoiseSession> RunAsync(PipeReader reader, PipeWriter writer, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxMessageLength);
        try
        {
            NoisePayload remote;
            if (_initiator)
            {
                // A: e
                MixHash(_ephemeralPublic);
                MixHash([]);
                WriteFrame(writer, _ephemeralPublic);
                await writer.FlushAsync(cancellationToken);

                // B: e, ee, s, es + payload
                var length = await ReadFrameAsync(reader, buffer, cancellationToken);
                remote = ReadMessageB(buffer.AsSpan(0, length));

                // C: s, se + payload
                length = WriteMessageC(buffer);
                WriteFrame(writer, buffer.AsSpan(0, length));
                await writer.FlushAsync(cancellationToken);
            }
            else
            {
                var length = await ReadFrameAsync(reader, buffer, cancellationToken);
                ReadMessageA(buffer.AsSpan(0, length));
                length = WriteMessageB(buffer);
                WriteFrame(writer, buffer.AsSpan(0, length));
                await writer.FlushAsync(cancellationToken);
                length = await ReadFrameAsync(reader, buffer, cancellationToken);
                remote = ReadMessageC(buffer.AsSpan(0, length));
            }

            return Finish(remote);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose()
    {
        _hash.Dispose();
        _static.Dispose();
        _ephemeral.Dispose();
        _cipher?.Dispose();
    }

    private void ReadMessageA(ReadOnlySpan<byte> message)
    {
        if (message.Length != DhLength)
        {
            throw new P2PProtocolException($"Noise: the first handshake message is {DhLength} bytes, not {message.Length}.");
        }

        _remoteEphemeral = message.ToArray();
        MixHash(_remoteEphemeral);
        MixHash([]);
    }

    private int WriteMessageB(Span<byte> output)
    {
        var n = 0;
        _ephemeralPublic.CopyTo(output);
        n += DhLength;
        MixHash(_ephemeralPublic);
        MixKey(Dh(_ephemeral, _remoteEphemeral!));
        n += EncryptAndHash(_staticPublic, output[n..]);
        MixKey(Dh(_static, _remoteEphemeral!));
        n += EncryptAndHash(BuildPayload(), output[n..]);
        return n;
    }

    private NoisePayload ReadMessageB(ReadOnlySpan<byte> message)
    {
        if (message.Length < DhLength + DhLength + NoiseCipher.TagLength + NoiseCipher.TagLength)
        {
            throw new P2PProtocolException($"Noise: the second handshake message is too short ({message.Length} bytes).");
        }

        _remoteEphemeral = message[..DhLength].ToArray();
        MixHash(_remoteEphemeral);
        MixKey(Dh(_ephemeral, _remoteEphemeral));
        var rest = message[DhLength..];
        _remoteStatic = new byte[DhLength];
        DecryptAndHash(rest[..(DhLength + NoiseCipher.TagLength)], _remoteStatic);
        MixKey(Dh(_ephemeral, _remoteStatic));
        return ReadPayload(rest[(DhLength + NoiseCipher.TagLength)..]);
    }

    private int WriteMessageC(Span<byte> output)
    {
        var n = EncryptAndHash(_staticPublic, output);
        MixKey(Dh(_static, _remoteEphemeral!));
        n += EncryptAndHash(BuildPayload(), output[n..]);
        return n;
    }

    private NoisePayload ReadMessageC(ReadOnlySpan<byte> message)
    {
        if (message.Length < DhLength + NoiseCipher.TagLength + NoiseCipher.TagLength)
        {
            throw new P2PProtocolException($"Noise: the third handshake message is too short ({message.Length} bytes).");
        }

        _remoteStatic = new byte[DhLength];
        DecryptAndHash(message[..(DhLength + NoiseCipher.TagLength)], _remoteStatic);
        MixKey(Dh(_ephemeral, _remoteStatic));
        return ReadPayload(message[(DhLength + NoiseCipher.TagLength)..]);
    }

    private NoisePayload ReadPayload(ReadOnlySpan<byte> ciphertext)
    {
        var plain = new byte[ciphertext.Length - NoiseCipher.TagLength];
        DecryptAndHash(ciphertext, plain);
        return NoisePayload.Decode(plain);
    }

    private byte[] BuildPayload()
    {
        Span<byte> signed = stackalloc byte[SignaturePrefix.Length + DhLength];
        SignaturePrefix.CopyTo(signed);
        _staticPublic.CopyTo(signed[SignaturePrefix.Length..]);
        var signature = _identity.Sign(signed);
        var extensions = new ProtoWriter().String(2, YamuxProtocol);
        return new ProtoWriter()
            .Bytes(1, PublicKeyProto.EncodeEd25519(_identity.PublicKey.Bytes))
            .Bytes(2, signature)
            .Bytes(4, extensions.WrittenSpan)
            .ToArray();
    }

    private NoiseSession Finish(NoisePayload remote)
    {
        if (!PublicKeyProto.TryDecodeEd25519(remote.IdentityKey, out var remoteKey))
        {
            throw new P2PProtocolException("Noise: the remote identity key is not a valid Ed25519 PublicKey (only Ed25519 identities are accepted).");
        }

        Span<byte> signed = stackalloc byte[SignaturePrefix.Length + DhLength];
        SignaturePrefix.CopyTo(signed);
        _remoteStatic.CopyTo(signed[SignaturePrefix.Length..]);
        if (!remoteKey!.Verify(signed, remote.IdentitySignature))
        {
            throw new P2PProtocolException("Noise: the remote's signature over its static key does not verify.");
        }

        var peer = PeerId.FromPublicKey(remoteKey);
        if (_expectedRemote is not null && !_expectedRemote.Equals(peer))
        {
            throw new P2PProtocolException($"Noise: dialed {_expectedRemote} but the remote is {peer}.");
        }

        Span<byte> keys = stackalloc byte[64];
        Hkdf(_ck, ReadOnlySpan<byte>.Empty, keys);
        var first = new NoiseCipher(keys[..32]);
        var second = new NoiseCipher(keys[32..]);
        CryptographicOperations.ZeroMemory(keys);
        return _initiator
            ? new NoiseSession(peer, remoteKey, first, second, remote.Muxers.Contains(YamuxProtocol), remote.Muxers.Count > 0)
            : new NoiseSession(peer, remoteKey, second, first, remote.Muxers.Contains(YamuxProtocol), remote.Muxers.Count > 0);
    }

    /// <summary>Noise's HKDF with two outputs (RFC 5869 with salt = ck, no info). Written out with HMAC because
    /// OpenSSL's HKDF refuses the empty input key material that Split uses.</summary>
    private static void Hkdf(ReadOnlySpan<byte> chainingKey, ReadOnlySpan<byte> ikm, Span<byte> output)
    {
        Span<byte> temp = stackalloc byte[32];
        Span<byte> input = stackalloc byte[33];
        HMACSHA256.HashData(chainingKey, ikm, temp);
        input[0] = 1;
        HMACSHA256.HashData(temp, input[..1], output[..32]);
        output[..32].CopyTo(input);
        input[32] = 2;
        HMACSHA256.HashData(temp, input, output[32..64]);
        CryptographicOperations.ZeroMemory(temp);
    }

    private void MixHash(ReadOnlySpan<byte> data)
    {
        _hash.AppendData(_h);
        _hash.AppendData(data);
        _hash.GetHashAndReset(_h);
    }

    private void MixKey(ReadOnlySpan<byte> ikm)
    {
        Span<byte> output = stackalloc byte[64];
        Hkdf(_ck, ikm, output);
        output[..32].CopyTo(_ck);
        _cipher?.Dispose();
        _cipher = new NoiseCipher(output[32..]);
        CryptographicOperations.ZeroMemory(output);
    }

    private int EncryptAndHash(ReadOnlySpan<byte> plaintext, Span<byte> output)
    {
        var length = plaintext.Length + NoiseCipher.TagLength;
        _cipher!.Encrypt(_h, plaintext, output);
        MixHash(output[..length]);
        return length;
    }

    private void DecryptAndHash(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (!_cipher!.TryDecrypt(_h, ciphertext, plaintext))
        {
            throw new P2PProtocolException("Noise: a handshake message failed authentication.");
        }

        MixHash(ciphertext);
    }

    private static byte[] Dh(Key privateKey, byte[] remotePublic)
    {
        var remote = PublicKey.Import(KeyAgreementAlgorithm.X25519, remotePublic, KeyBlobFormat.RawPublicKey);
        using var secret = KeyAgreementAlgorithm.X25519.Agree(privateKey, remote, new SharedSecretCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport })
            ?? throw new P2PProtocolException("Noise: the remote sent an X25519 key of small order.");
        return secret.Export(SharedSecretBlobFormat.RawSharedSecret);
    }

    internal static void WriteFrame(PipeWriter writer, ReadOnlySpan<byte> message)
    {
        var span = writer.GetSpan(2 + message.Length);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)message.Length);
        message.CopyTo(span[2..]);
        writer.Advance(2 + message.Length);
    }

    private static bool TryReadFrame(ReadOnlySequence<byte> buffer, byte[] destination, out int length, out SequencePosition consumed)
    {
        var sequence = new SequenceReader<byte>(buffer);
        length = 0;
        consumed = buffer.Start;
        if (!sequence.TryReadBigEndian(out short prefix))
        {
            return false;
        }

        length = (ushort)prefix;
        if (sequence.Remaining < length)
        {
            return false;
        }

        buffer.Slice(2, length).CopyTo(destination);
        consumed = buffer.GetPosition(2 + length);
        return true;
    }

    private static async ValueTask<int> ReadFrameAsync(PipeReader reader, byte[] destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (TryReadFrame(buffer, destination, out var length, out var consumed))
            {
                reader.AdvanceTo(consumed);
                return length;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                throw new P2PProtocolException("Noise: the connection ended during the handshake.");
            }
        }
    }
}

/// <summary>The decoded <c>NoiseHandshakePayload</c>.</summary>
internal sealed record NoisePayload(byte[] IdentityKey, byte[] IdentitySignature, IReadOnlyList<string> Muxers)
{
    public static NoisePayload Decode(ReadOnlySpan<byte> bytes)
    {
        byte[] key = [], signature = [];
        var muxers = new List<string>();
        try
        {
            var reader = new ProtoReader(bytes);
            while (reader.TryReadTag(out var field, out var wire))
            {
                if (field == 1 && wire == ProtoReader.WireLength)
                {
                    key = reader.ReadBytes().ToArray();
                }
                else if (field == 2 && wire == ProtoReader.WireLength)
                {
                    signature = reader.ReadBytes().ToArray();
                }
                else if (field == 4 && wire == ProtoReader.WireLength)
                {
                    var extensions = new ProtoReader(reader.ReadBytes());
                    while (extensions.TryReadTag(out var f, out var w))
                    {
                        if (f == 2 && w == ProtoReader.WireLength && muxers.Count < 16)
                        {
                            muxers.Add(Encoding.UTF8.GetString(extensions.ReadBytes()));
                        }
                        else
                        {
                            extensions.Skip(w);
                        }
                    }
                }
                else
                {
                    reader.Skip(wire);
                }
            }
        }
        catch (FormatException e)
        {
            throw new P2PProtocolException("Noise: a malformed handshake payload.", e);
        }

        return new NoisePayload(key, signature, muxers);
    }
}
