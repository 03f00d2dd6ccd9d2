using System.Text.Json;
using OpenVret.Signals.Readers;
using OpenVret.Signals.Tests.Support;

namespace OpenVret.Signals.Tests.Conformance;

/// <summary>One oracle file: the signal NeuroKit2 saw and what it computed.</summary>
public sealed class OracleCase
{
    public string Stem { get; }
    public JsonElement Json { get; }
    public SampleRate Rate { get; }

    public OracleCase(string stem)
    {
        Stem = stem;
        Json = SharedData.OracleJson(stem);
        Rate = new SampleRate(Json.GetProperty("input").GetProperty("sampling_rate").GetDouble());
    }

    public double[] Column(string modality)
    {
        var block = Json.GetProperty(modality);
        string column = block.GetProperty("column").GetString()!;
        var table = CsvSignalReader.ReadTable(SharedData.OracleSignal(Stem + ".csv"));
        return table.Data[CsvSignalReader.SelectColumn(table.Columns, column, null, Stem)];
    }

    public static int[] Ints(JsonElement array) => array.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number).Select(e => e.GetInt32()).ToArray();

    public static double? Number(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    public static IEnumerable<object[]> With(string modality)
    {
        if (!SharedData.OracleAvailable) return new[] { new object[] { "(oracle missing)" } };
        return Directory.GetFiles(Path.Combine(SharedData.OracleDir!, "signals"), "*.nk.json")
            .Select(p => Path.GetFileName(p)[..^".nk.json".Length])
            .Where(stem => JsonDocument.Parse(File.ReadAllText(SharedData.OracleSignal(stem + ".nk.json"))).RootElement.TryGetProperty(modality, out _))
            .OrderBy(s => s)
            .Select(s => new object[] { s });
    }
}

public static class Tolerance
{
    /// <summary>Asserts |ours - theirs| &lt;= relative x |theirs| (or &lt;= absolute when given and larger).</summary>
    public static void Within(string what, double ours, double theirs, double relative, double absolute = 0)
    {
        double allowed = Math.Max(Math.Abs(theirs) * relative, absolute);
        if (!(Math.Abs(ours - theirs) <= allowed))
            throw new Xunit.Sdk.XunitException($"{what}: ours {ours:G6} vs NeuroKit2 {theirs:G6} differs by {Math.Abs(ours - theirs):G3} (> {allowed:G3}, {relative:P0})");
    }
}
