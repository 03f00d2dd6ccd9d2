namespace OpenVret.Server.Tests.Support;

/// <summary>
/// Waiting for a condition in a test, never for a fixed time. Where the code under test raises an event, await the
/// event (<see cref="Inbox{T}"/>); where it does not (a row in the store, a process coming up), poll the condition
/// with a deadline: the test goes on as soon as it holds and fails with <c>what</c> when it never does.
/// Deadlines are generous because CI shares two cores; a passing test never waits for them.
/// </summary>
public static class Until
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(25);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails naming <paramref name="what"/> at the deadline.</summary>
    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null, Func<string>? detail = null) =>
        TrueAsync(() => Task.FromResult(condition()), what, timeout, detail);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<string>? detail = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            if (await condition()) return;
            if (DateTime.UtcNow >= deadline)
                throw new Xunit.Sdk.XunitException($"{what}: not so within {limit.TotalSeconds:0.#} s{(detail is null ? "" : "; " + detail())}");
            await Task.Delay(Poll);
        }
    }

    /// <summary>Polls <paramref name="read"/> until its value satisfies <paramref name="done"/>, and returns that value.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        T value = default!;
        await TrueAsync(async () => done(value = await read()), what, timeout,
            () => $"last value: {(value is System.Collections.IEnumerable items and not string ? string.Join(", ", items.Cast<object>()) : value)}");
        return value;
    }
}

/// <summary>
/// What a client received (scene commands, transcript lines, alerts): the receive handler adds, and a test awaits an
/// item that matches instead of sleeping. Messages on different connections arrive in no fixed order, so a test awaits
/// each one it asserts on.
/// </summary>
public sealed class Inbox<T> : IEnumerable<T>
{
    private readonly List<T> _items = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Add(T item)
    {
        TaskCompletionSource changed;
        lock (_items)
        {
            _items.Add(item);
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    public int Count { get { lock (_items) return _items.Count; } }

    /// <summary>The first item that matches, as soon as it has arrived; fails naming <paramref name="what"/> and what did arrive.</summary>
    public async Task<T> WaitAsync(Func<T, bool> match, string what, TimeSpan? timeout = null, Func<T, string>? show = null)
    {
        var limit = timeout ?? Until.DefaultTimeout;
        using var cts = new CancellationTokenSource(limit);
        while (true)
        {
            Task changed;
            lock (_items)
            {
                foreach (var item in _items)
                    if (match(item)) return item;
                changed = _changed.Task;
            }
            try { await changed.WaitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"never received {what} within {limit.TotalSeconds:0.#} s; got: {string.Join(" | ", this.Select(i => show is null ? i?.ToString() : show(i)))}");
            }
        }
    }

    public IEnumerator<T> GetEnumerator()
    {
        List<T> copy;
        lock (_items) copy = _items.ToList();
        return copy.GetEnumerator();
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
