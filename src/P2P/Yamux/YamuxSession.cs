using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using Xmbl.Cluster.P2P.Options;

namespace Xmbl.Cluster.P2P.Yamux;

/// <summary>A yamux session: many streams over one secure connection.</summary>
/// <remarks>
/// One read loop parses frames and moves data into stream buffers without waiting on anything (windows bound what it
/// can buffer); one write loop owns the connection's writer and sends queued control frames and stream data, so
/// frames from many streams share each flush. A protocol violation closes the session with GoAway(protocol error)
/// and a reason.
/// </remarks>
public sealed class YamuxSession : IAsyncDisposable
{
    private readonly IDuplexPipe _pipe;
    private readonly bool _isClient;
    private readonly P2POptions _options;
    private readonly TimeProvider _time;
    private readonly Action<uint, string>? _onStreamRefused;
    private readonly Dictionary<uint, YamuxStream> _streams = [];
    private readonly Channel<WriteItem> _writes = Channel.CreateUnbounded<WriteItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<YamuxStream> _accepted = Channel.CreateUnbounded<YamuxStream>(new UnboundedChannelOptions { SingleReader = false });
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _headerScratch = new byte[YamuxHeader.Size];
    private uint _nextId;
    private readonly Lock _opening = new();
    private uint _lastInboundId;
    private int _inbound;
    private int _outbound;
    private int _refused;
    private int _controlBacklog;
    private long _lastActivity;
    private uint _pingId;
    private long _pingSentAt;
    private long _lastPing;
    private int _pingsAnswered;
    private bool _remoteGoAway;
    private string? _closeReason;
    private bool _violation;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private Task _idleLoop = Task.CompletedTask;

    // Read-loop state for a data frame whose payload has not all arrived yet.
    private long _dataRemaining;
    private YamuxStream? _dataStream;
    private YamuxFlags _dataFlags;

    internal YamuxSession(IDuplexPipe pipe, bool isClient, P2POptions options, TimeProvider time, Action<uint, string>? onStreamRefused = null)
    {
        _pipe = pipe;
        _isClient = isClient;
        _options = options;
        _time = time;
        _onStreamRefused = onStreamRefused;
        _nextId = isClient ? 1u : 2u;
        _lastActivity = time.GetTimestamp();
    }

    /// <summary>Completes when the session has closed; see <see cref="CloseReason"/>.</summary>
    public Task Completion => _closed.Task;

    /// <summary>Why the session closed, once it has.</summary>
    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>True when the session closed because the remote broke the protocol or a limit.</summary>
    public bool ClosedForViolation => _violation;

    /// <summary>Open streams.</summary>
    public int StreamCount
    {
        get
        {
            lock (_streams)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>Keep-alive pings the remote has answered (for tests).</summary>
    internal int PingsAnswered => Volatile.Read(ref _pingsAnswered);

    internal void Start()
    {
        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
        _idleLoop = Task.Run(IdleLoopAsync);
    }

    /// <summary>Opens a stream (SYN is sent at once; data may follow before the ACK).</summary>
    /// <exception cref="InvalidOperationException">The outbound stream limit is reached.</exception>
    /// <exception cref="IOException">The session is closed or going away.</exception>
    public YamuxStream OpenStream()
    {
        // Taking an id and sending its SYN is one step: the remote refuses an id below one it has already seen, so
        // two streams opened at once must announce themselves in the order of their ids.
        lock (_opening)
        {
            return OpenStreamInOrder();
        }
    }

    private YamuxStream OpenStreamInOrder()
    {
        YamuxStream stream;
        lock (_streams)
        {
            if (_closeReason is not null || _remoteGoAway)
            {
                throw new IOException($"The connection is closed or going away: {_closeReason ?? "the remote sent GoAway"}.");
            }

            if (_outbound >= _options.MaxOutboundStreams)
            {
                throw new InvalidOperationException($"This connection already has {_outbound} outbound streams (P2P:MaxOutboundStreams).");
            }

            if (_nextId > uint.MaxValue - 2)
            {
                throw new IOException("Stream ids of this connection are used up.");
            }

            stream = new YamuxStream(this, _nextId, inbound: false, _options.StreamReceiveWindow);
            _nextId += 2;
            _streams.Add(stream.Id, stream);
            _outbound++;
        }

        EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Syn, stream.Id, stream.GrowReceiveWindowOnOpen()));
        return stream;
    }

    /// <summary>Waits for the remote's next stream; null once the session has closed.</summary>
    public async ValueTask<YamuxStream?> AcceptStreamAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Closes the session: GoAway(normal), then the connection once queued frames are sent.</summary>
    public ValueTask CloseAsync(string reason = "closed locally")
    {
        Close(reason, YamuxHeader.GoAwayNormal, violation: false);
        return new ValueTask(Completion);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _stop.Dispose();
    }

    internal void EnqueueControl(YamuxHeader header)
    {
        if (Interlocked.Increment(ref _controlBacklog) > _options.MaxControlBacklog)
        {
            Close($"more than {_options.MaxControlBacklog} control frames queued: the remote does not read (P2P:MaxControlBacklog)", YamuxHeader.GoAwayProtocolError, violation: true);
            return;
        }

        if (!_writes.Writer.TryWrite(new WriteItem(header, null)))
        {
            Interlocked.Decrement(ref _controlBacklog);
        }
    }

    internal void EnqueueData(YamuxStream stream)
    {
        if (!_writes.Writer.TryWrite(new WriteItem(default, stream)))
        {
            stream.CompleteWrite(new IOException($"The connection closed: {CloseReason}"));
        }
    }

    internal void Remove(YamuxStream stream)
    {
        lock (_streams)
        {
            if (_streams.Remove(stream.Id))
            {
                if (stream.IsInbound)
                {
                    _inbound--;
                }
                else
                {
                    _outbound--;
                }
            }
        }
    }

    private async Task WriteLoopAsync()
    {
        var output = _pipe.Output;
        var reader = _writes.Reader;
        Exception? error = null;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token))
            {
                while (reader.TryRead(out var item))
                {
                    if (item.Stream is null)
                    {
                        item.Header.Write(output.GetSpan(YamuxHeader.Size));
                        output.Advance(YamuxHeader.Size);
                        if (item.Header.Type != YamuxType.GoAway)
                        {
                            Interlocked.Decrement(ref _controlBacklog);
                        }

                        continue;
                    }

                    WriteData(output, item.Stream.Id, item.Stream.PendingWrite.Span);
                    item.Stream.CompleteWrite(null);
                }

                var flush = await output.FlushAsync(_stop.Token);
                if (flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            error = e;
        }

        _writes.Writer.TryComplete();
        var failure = new IOException($"The connection closed: {CloseReason ?? error?.Message ?? "the remote stopped reading"}");
        while (reader.TryRead(out var item))
        {
            item.Stream?.CompleteWrite(failure);
        }

        if (error is not null and not OperationCanceledException)
        {
            Close($"write failed: {error.Message}", YamuxHeader.GoAwayInternalError, violation: false);
        }
    }

    /// <summary>Writes <paramref name="data"/> as data frames of at most <see cref="YamuxStream.MaxDataFrame"/> bytes.</summary>
    internal static void WriteData(PipeWriter output, uint streamId, ReadOnlySpan<byte> data)
    {
        do
        {
            var n = Math.Min(data.Length, YamuxStream.MaxDataFrame);
            new YamuxHeader(YamuxType.Data, YamuxFlags.None, streamId, (uint)n).Write(output.GetSpan(YamuxHeader.Size));
            output.Advance(YamuxHeader.Size);
            output.Write(data[..n]);
            data = data[n..];
        }
        while (!data.IsEmpty);
    }

    private async Task ReadLoopAsync()
    {
        var input = _pipe.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_stop.Token);
                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    Volatile.Write(ref _lastActivity, _time.GetTimestamp());
                }

                try
                {
                    Process(ref buffer);
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    Close(buffer.IsEmpty && _dataRemaining == 0 ? "the remote closed the connection" : "the connection ended inside a frame", YamuxHeader.GoAwayNormal, violation: false);
                    return;
                }
            }
        }
        catch (P2PProtocolException e)
        {
            Close(e.Message, YamuxHeader.GoAwayProtocolError, violation: true);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Closing.
        }
        catch (Exception e)
        {
            Close($"read failed: {e.Message}", YamuxHeader.GoAwayInternalError, violation: false);
        }
    }

    private void Process(ref ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            if (_dataRemaining > 0)
            {
                if (buffer.IsEmpty)
                {
                    return;
                }

                var n = Math.Min(_dataRemaining, buffer.Length);
                var chunk = buffer.Slice(0, n);
                _dataStream?.Deliver(chunk);
                buffer = buffer.Slice(chunk.End);
                _dataRemaining -= n;
                if (_dataRemaining == 0 && _dataStream is not null)
                {
                    ApplyCloseFlags(_dataStream, _dataFlags);
                    _dataStream = null;
                }

                continue;
            }

            if (buffer.Length < YamuxHeader.Size)
            {
                return;
            }

            YamuxHeader header;
            if (buffer.FirstSpan.Length >= YamuxHeader.Size)
            {
                header = YamuxHeader.Read(buffer.FirstSpan);
            }
            else
            {
                buffer.Slice(0, YamuxHeader.Size).CopyTo(_headerScratch);
                header = YamuxHeader.Read(_headerScratch);
            }

            buffer = buffer.Slice(YamuxHeader.Size);
            Handle(header);
        }
    }

    private void Handle(YamuxHeader header)
    {
        switch (header.Type)
        {
            case YamuxType.Ping:
                if (header.StreamId != 0)
                {
                    throw new P2PProtocolException($"yamux: a ping on stream {header.StreamId} (pings belong to stream 0).");
                }

                if (header.Flags == YamuxFlags.Syn)
                {
                    EnqueueControl(new YamuxHeader(YamuxType.Ping, YamuxFlags.Ack, 0, header.Length));
                }
                else if (header.Flags == YamuxFlags.Ack && header.Length == Volatile.Read(ref _pingId))
                {
                    // Our keep-alive was answered; a stray reply is ignored.
                    Volatile.Write(ref _pingSentAt, 0);
                    Interlocked.Increment(ref _pingsAnswered);
                }

                return;
            case YamuxType.GoAway:
                if (header.StreamId != 0)
                {
                    throw new P2PProtocolException($"yamux: a GoAway on stream {header.StreamId}.");
                }

                lock (_streams)
                {
                    _remoteGoAway = true;
                }

                return;
        }

        if (header.StreamId == 0)
        {
            throw new P2PProtocolException($"yamux: a {header.Type} frame on stream 0.");
        }

        YamuxStream? stream;
        lock (_streams)
        {
            _streams.TryGetValue(header.StreamId, out stream);
        }

        if ((header.Flags & YamuxFlags.Syn) != 0)
        {
            if (stream is not null)
            {
                throw new P2PProtocolException($"yamux: SYN for stream {header.StreamId}, which is already open.");
            }

            stream = AcceptInbound(header.StreamId);
        }

        if (header.Type == YamuxType.WindowUpdate)
        {
            stream?.AddSendWindow(header.Length);
            if (stream is not null)
            {
                ApplyCloseFlags(stream, header.Flags);
            }

            return;
        }

        // Data. Frames for streams we reset or refused are read and dropped.
        stream?.TakeReceiveWindow(header.Length);
        _dataStream = stream;
        _dataFlags = header.Flags;
        _dataRemaining = header.Length;
        if (header.Length == 0 && stream is not null)
        {
            ApplyCloseFlags(stream, header.Flags);
            _dataStream = null;
        }
    }

    private YamuxStream? AcceptInbound(uint id)
    {
        // The dialer (client) opens odd ids, the listener even ones.
        if ((id % 2 == 1) == _isClient)
        {
            throw new P2PProtocolException($"yamux: the remote opened stream {id}, an id of our parity.");
        }

        if (id <= _lastInboundId)
        {
            throw new P2PProtocolException($"yamux: the remote reused stream id {id}.");
        }

        _lastInboundId = id;
        string? refusal = null;
        YamuxStream? stream = null;
        lock (_streams)
        {
            if (_closeReason is not null)
            {
                refusal = "the connection is closing";
            }
            else if (_inbound >= _options.MaxInboundStreams)
            {
                refusal = $"{_inbound} inbound streams open (P2P:MaxInboundStreams)";
                _refused++;
            }
            else
            {
                stream = new YamuxStream(this, id, inbound: true, _options.StreamReceiveWindow);
                _streams.Add(id, stream);
                _inbound++;
            }
        }

        if (stream is null)
        {
            EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Rst, id, 0));
            _onStreamRefused?.Invoke(id, refusal!);
            if (_refused > _options.MaxInboundStreams)
            {
                throw new P2PProtocolException($"yamux: stream flood: {_refused} streams opened past the limit of {_options.MaxInboundStreams} (P2P:MaxInboundStreams).");
            }

            return null;
        }

        EnqueueControl(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Ack, id, stream.GrowReceiveWindowOnOpen()));
        _accepted.Writer.TryWrite(stream);
        return stream;
    }

    private static void ApplyCloseFlags(YamuxStream stream, YamuxFlags flags)
    {
        if ((flags & YamuxFlags.Rst) != 0)
        {
            stream.OnRemoteReset();
        }
        else if ((flags & YamuxFlags.Fin) != 0)
        {
            stream.OnRemoteFin();
        }
    }

    private async Task IdleLoopAsync()
    {
        var shortest = _options.IdleTimeout < _options.KeepAliveInterval ? _options.IdleTimeout : _options.KeepAliveInterval;
        var period = shortest / 4 < TimeSpan.FromSeconds(1) ? shortest / 4 : TimeSpan.FromSeconds(1);
        _lastPing = _time.GetTimestamp();
        try
        {
            while (true)
            {
                await Task.Delay(period, _time, _stop.Token);
                var idle = _time.GetElapsedTime(Volatile.Read(ref _lastActivity));
                if (idle >= _options.IdleTimeout && StreamCount == 0)
                {
                    Close($"idle for {idle.TotalSeconds:0.#} s with no stream open (P2P:IdleTimeout)", YamuxHeader.GoAwayNormal, violation: false);
                    return;
                }

                var sentAt = Volatile.Read(ref _pingSentAt);
                if (sentAt != 0 && _time.GetElapsedTime(sentAt) >= _options.KeepAliveInterval)
                {
                    Close($"no reply to a keep-alive ping within {_options.KeepAliveInterval.TotalSeconds:0.#} s (P2P:KeepAliveInterval)", YamuxHeader.GoAwayNormal, violation: false);
                    return;
                }

                if (sentAt == 0 && _time.GetElapsedTime(_lastPing) >= _options.KeepAliveInterval)
                {
                    _lastPing = _time.GetTimestamp();
                    Volatile.Write(ref _pingId, _pingId + 1);
                    Volatile.Write(ref _pingSentAt, _lastPing);
                    EnqueueControl(new YamuxHeader(YamuxType.Ping, YamuxFlags.Syn, 0, _pingId));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closing.
        }
    }

    private void Close(string reason, uint goAwayCode, bool violation)
    {
        YamuxStream[] streams;
        lock (_streams)
        {
            if (_closeReason is not null)
            {
                return;
            }

            _violation = violation;
            Volatile.Write(ref _closeReason, reason);
            streams = [.. _streams.Values];
        }

        _writes.Writer.TryWrite(new WriteItem(new YamuxHeader(YamuxType.GoAway, YamuxFlags.None, 0, goAwayCode), null));
        _writes.Writer.TryComplete();
        _accepted.Writer.TryComplete();
        foreach (var stream in streams)
        {
            stream.OnSessionClosed(reason);
        }

        _ = FinishAsync();
    }

    private async Task FinishAsync()
    {
        // Let the writer send what is queued (GoAway last), but never wait long on a remote that does not read.
        try
        {
            await _writeLoop.WaitAsync(TimeSpan.FromSeconds(2), _time);
        }
        catch (TimeoutException)
        {
        }

        await _stop.CancelAsync();
        _pipe.Input.CancelPendingRead();
        try
        {
            await Task.WhenAll(_readLoop, _writeLoop, _idleLoop);
        }
        catch (OperationCanceledException)
        {
        }

        await _pipe.Output.CompleteAsync();
        await _pipe.Input.CompleteAsync();
        while (_accepted.Reader.TryRead(out var orphan))
        {
            orphan.OnSessionClosed(CloseReason!);
        }

        _closed.TrySetResult();
    }

    private readonly record struct WriteItem(YamuxHeader Header, YamuxStream? Stream);
}
