using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Xmbl.Cluster.P2P.Tests.Support;

/// <summary>Collects log entries so tests can check that a closed connection names its reason.</summary>
public sealed class ListLoggerProvider : ILoggerProvider, ILoggerFactory
{
    private readonly ConcurrentQueue<(int EventId, LogLevel Level, string Message)> _entries = new();
    private readonly SemaphoreSlim _written = new(0);

    public IReadOnlyList<(int EventId, LogLevel Level, string Message)> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    /// <summary>Waits until an entry with the event id whose message contains <paramref name="text"/> is logged.</summary>
    public async Task<string> WaitForAsync(int eventId, string text, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            foreach (var entry in _entries)
            {
                if (entry.EventId == eventId && entry.Message.Contains(text, StringComparison.Ordinal))
                {
                    return entry.Message;
                }
            }

            try
            {
                await _written.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No log entry {eventId} containing '{text}' within {timeout}. Logged:\n" + string.Join("\n", _entries.Select(e => $"{e.EventId} {e.Message}")));
            }
        }
    }

    private sealed class Logger(ListLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            owner._entries.Enqueue((eventId.Id, logLevel, formatter(state, exception)));
            owner._written.Release();
        }
    }
}
