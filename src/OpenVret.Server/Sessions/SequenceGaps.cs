namespace OpenVret.Server.Sessions;

/// <summary>
/// The sequence numbers below a channel's highest accepted one that were never accepted, as disjoint ranges: exact
/// whatever the gaps' sizes (memory grows with the number of gaps, not their length). A batch is a duplicate only when
/// its number is at or below the highest and not in here, that is, only when it was accepted (and so stored).
/// </summary>
public sealed class SequenceGaps
{
    private readonly SortedSet<(long From, long To)> _ranges = new();

    public int RangeCount => _ranges.Count;

    /// <summary>How many sequence numbers are missing in all.</summary>
    public long Count => _ranges.Sum(r => r.To - r.From + 1);

    public IEnumerable<(long From, long To)> Ranges => _ranges;

    /// <summary>Marks <paramref name="from"/>..<paramref name="to"/> (inclusive) missing; they must not overlap a range already held.</summary>
    public void Add(long from, long to)
    {
        if (from > to) return;
        if (Floor(to) is { } before && before.To >= from)
            throw new InvalidOperationException($"sequence gap {from}-{to} overlaps {before.From}-{before.To}");
        _ranges.Add((from, to));
    }

    public bool Contains(long sequence) => Floor(sequence) is { } r && r.To >= sequence;

    /// <summary>Takes one number out of the gaps (a late batch filled it); false when it was not missing.</summary>
    public bool Remove(long sequence)
    {
        if (Floor(sequence) is not { } r || r.To < sequence) return false;
        _ranges.Remove(r);
        if (r.From < sequence) _ranges.Add((r.From, sequence - 1));
        if (sequence < r.To) _ranges.Add((sequence + 1, r.To));
        return true;
    }

    /// <summary>The missing numbers of 0..<paramref name="highest"/> when exactly <paramref name="stored"/> were stored.</summary>
    public static SequenceGaps Complement(IEnumerable<long> stored, long highest)
    {
        var gaps = new SequenceGaps();
        long next = 0;
        foreach (var s in stored.Where(s => s >= 0 && s <= highest).Distinct().Order())
        {
            if (s > next) gaps._ranges.Add((next, s - 1));
            next = s + 1;
        }
        if (next <= highest) gaps._ranges.Add((next, highest));
        return gaps;
    }

    /// <summary>The range with the greatest start at or below <paramref name="sequence"/>.</summary>
    private (long From, long To)? Floor(long sequence)
    {
        if (_ranges.Count == 0 || _ranges.Min.From > sequence) return null;
        // Not empty: the smallest range starts at or below the number. (A view's Count would walk it.)
        return _ranges.GetViewBetween((long.MinValue, long.MinValue), (sequence, long.MaxValue)).Max;
    }
}
