namespace OpenVret.Signals;

/// <summary>Severity of a quality problem.</summary>
public enum QualitySeverity { Info, Warning, Error }

/// <summary>
/// A machine-readable statement about input or output quality (a NaN run that was bridged, a flat line,
/// a window too short for LF power...). Carried beside features so a missing value always has a reason.
/// </summary>
public sealed record QualityFlag(string Code, string Message, QualitySeverity Severity = QualitySeverity.Warning, string? Feature = null)
{
    public override string ToString() => Feature is null ? $"{Code}: {Message}" : $"{Code} [{Feature}]: {Message}";
}

/// <summary>
/// Named feature values in a stable order. A missing feature is NaN and has at least one
/// <see cref="QualityFlag"/> naming it.
/// </summary>
public sealed class FeatureSet
{
    // Sized for a modality's full feature list so a live hop does not regrow them.
    private readonly List<string> _names = new(48);
    private readonly Dictionary<string, double> _values = new(48, StringComparer.Ordinal);
    private readonly List<QualityFlag> _flags = new();

    public FeatureSet() { }

    public FeatureSet(int capacity)
    {
        _names = new List<string>(capacity);
        _values = new Dictionary<string, double>(capacity, StringComparer.Ordinal);
    }

    public IReadOnlyList<string> Names => _names;
    public IReadOnlyList<QualityFlag> Flags => _flags;

    public double this[string name] => _values.TryGetValue(name, out var v) ? v : double.NaN;

    public bool Contains(string name) => _values.ContainsKey(name);

    public void Set(string name, double value)
    {
        if (!_values.ContainsKey(name)) _names.Add(name);
        _values[name] = double.IsFinite(value) ? value : double.NaN;
    }

    /// <summary>Record a feature as missing, with the reason.</summary>
    public void Missing(string name, string code, string reason)
    {
        Set(name, double.NaN);
        _flags.Add(new QualityFlag(code, reason, QualitySeverity.Warning, name));
    }

    public void Flag(QualityFlag flag) => _flags.Add(flag);

    public void AddRange(FeatureSet other)
    {
        foreach (var n in other.Names) Set(n, other[n]);
        _flags.AddRange(other.Flags);
    }

    public IEnumerable<KeyValuePair<string, double>> Values => _names.Select(n => new KeyValuePair<string, double>(n, _values[n]));
}
