using System.Text.Json;
using Xunit;

namespace OpenVret.Signals.Tests.Support;

/// <summary>
/// Locates the shared recordings and NeuroKit2 oracle. Default: ../shared next to the repository root (as
/// CI lays it out); override with OPENVRET_SHARED (folder holding data/ and oracle/), or OPENVRET_DATA /
/// OPENVRET_ORACLE for each folder separately.
/// </summary>
public static class SharedData
{
    public static string? RepoRoot { get; } = FindRepoRoot();

    public static string? SharedRoot { get; } =
        Environment.GetEnvironmentVariable("OPENVRET_SHARED") is { Length: > 0 } s ? s
        : RepoRoot is null ? null : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string? OracleDir { get; } = Pick("OPENVRET_ORACLE", "oracle");
    public static string? DataDir { get; } = Pick("OPENVRET_DATA", "data");

    public static bool OracleAvailable => OracleDir is not null && Directory.Exists(Path.Combine(OracleDir, "signals"));
    public static bool DataAvailable => DataDir is not null && Directory.Exists(DataDir);

    public static string OracleSignal(string name) => Path.Combine(OracleDir!, "signals", name);
    public static string Data(params string[] parts) => Path.Combine(new[] { DataDir! }.Concat(parts).ToArray());

    public static JsonElement OracleJson(string stem) =>
        JsonDocument.Parse(File.ReadAllText(OracleSignal(stem + ".nk.json"))).RootElement;

    private static string? Pick(string env, string sub)
    {
        if (Environment.GetEnvironmentVariable(env) is { Length: > 0 } p) return p;
        return SharedRoot is null ? null : Path.Combine(SharedRoot, sub);
    }

    private static string? FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OpenVret.slnx"))) return dir.FullName;
            dir = dir.Parent;
        }
        return null;
    }

    public static string Fixture(params string[] parts) => Path.Combine(new[] { AppContext.BaseDirectory, "Fixtures" }.Concat(parts).ToArray());
}

/// <summary>A fact that needs ../shared/oracle; skipped with a clear message where it is absent.</summary>
public sealed class OracleFactAttribute : FactAttribute
{
    public OracleFactAttribute()
    {
        if (!SharedData.OracleAvailable)
            Skip = $"NeuroKit2 oracle not found at '{SharedData.OracleDir ?? "(no repo root)"}'; set OPENVRET_ORACLE or OPENVRET_SHARED to run conformance tests";
    }
}

public sealed class OracleTheoryAttribute : TheoryAttribute
{
    public OracleTheoryAttribute()
    {
        if (!SharedData.OracleAvailable)
            Skip = $"NeuroKit2 oracle not found at '{SharedData.OracleDir ?? "(no repo root)"}'; set OPENVRET_ORACLE or OPENVRET_SHARED to run conformance tests";
    }
}

/// <summary>A fact that needs ../shared/data recordings; skipped with a clear message where they are absent.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute(params string[] requiredPath)
    {
        if (!SharedData.DataAvailable || (requiredPath.Length > 0 && !Path.Exists(SharedData.Data(requiredPath))))
            Skip = $"shared recording '{string.Join('/', requiredPath)}' not found under '{SharedData.DataDir ?? "(no repo root)"}'; set OPENVRET_DATA or OPENVRET_SHARED to run it";
    }
}

public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute(params string[] requiredPath)
    {
        if (!SharedData.DataAvailable || (requiredPath.Length > 0 && !Path.Exists(SharedData.Data(requiredPath))))
            Skip = $"shared recording '{string.Join('/', requiredPath)}' not found under '{SharedData.DataDir ?? "(no repo root)"}'; set OPENVRET_DATA or OPENVRET_SHARED to run it";
    }
}
