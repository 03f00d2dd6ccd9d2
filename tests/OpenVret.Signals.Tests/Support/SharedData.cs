using System.Text.Json;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

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

/// <summary>
/// Whether a missing piece of shared data must fail the test instead of skipping it: `.ci/run` sets
/// OPENVRET_REQUIRE_SHARED=1 when ../shared exists, so CI cannot go green with the conformance suite skipped.
/// On a user's own clone without ../shared (and without the variable) the data tests skip with a message.
/// </summary>
public static class SharedRequirement
{
    public const string Variable = "OPENVRET_REQUIRE_SHARED";
    /// <summary>Every data test's skip message starts with this, so `.ci/run` can tell such a skip from others.</summary>
    public const string Marker = "[shared data missing]";

    public static bool Required => Environment.GetEnvironmentVariable(Variable) is "1" or "true";

    public static string? OracleMissing() => SharedData.OracleAvailable ? null
        : $"{Marker} NeuroKit2 oracle not found: '{(SharedData.OracleDir is null ? "(no repo root)" : Path.Combine(SharedData.OracleDir, "signals"))}'; set OPENVRET_ORACLE or OPENVRET_SHARED to run conformance tests";

    public static string? DataMissing(string[] requiredPath) =>
        SharedData.DataAvailable && (requiredPath.Length == 0 || Path.Exists(SharedData.Data(requiredPath))) ? null
        : $"{Marker} shared recording '{(SharedData.DataDir is null ? "(no repo root)" : SharedData.Data(requiredPath))}' not found; set OPENVRET_DATA or OPENVRET_SHARED to run it";

    /// <summary>The skip reason on a user's clone; null (run the test) when the data is there or when it is required.</summary>
    public static string? SkipFor(string? missing) => missing is not null && !Required ? missing : null;

    /// <summary>The failure when the data is required and missing.</summary>
    public static string? FailureFor(string? missing) => missing is not null && Required
        ? $"{missing.Replace(Marker, "[shared data required]")}; {Variable}=1 (set by .ci/run because ../shared exists) makes this a failure, not a skip"
        : null;
}

/// <summary>A fact that needs ../shared/oracle; skipped with a clear message where it is absent, failed where it is required.</summary>
[XunitTestCaseDiscoverer("OpenVret.Signals.Tests.Support.SharedFactDiscoverer", "OpenVret.Signals.Tests")]
public sealed class OracleFactAttribute : FactAttribute
{
    public OracleFactAttribute()
    {
        string? missing = SharedRequirement.OracleMissing();
        Skip = SharedRequirement.SkipFor(missing);
        RequiredButMissing = SharedRequirement.FailureFor(missing);
    }

    public string? RequiredButMissing { get; }
}

[XunitTestCaseDiscoverer("OpenVret.Signals.Tests.Support.SharedTheoryDiscoverer", "OpenVret.Signals.Tests")]
public sealed class OracleTheoryAttribute : TheoryAttribute
{
    public OracleTheoryAttribute()
    {
        string? missing = SharedRequirement.OracleMissing();
        Skip = SharedRequirement.SkipFor(missing);
        RequiredButMissing = SharedRequirement.FailureFor(missing);
    }

    public string? RequiredButMissing { get; }
}

/// <summary>A fact that needs ../shared/data recordings; skipped with a clear message where they are absent, failed where they are required.</summary>
[XunitTestCaseDiscoverer("OpenVret.Signals.Tests.Support.SharedFactDiscoverer", "OpenVret.Signals.Tests")]
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute(params string[] requiredPath)
    {
        string? missing = SharedRequirement.DataMissing(requiredPath);
        Skip = SharedRequirement.SkipFor(missing);
        RequiredButMissing = SharedRequirement.FailureFor(missing);
    }

    public string? RequiredButMissing { get; }
}

[XunitTestCaseDiscoverer("OpenVret.Signals.Tests.Support.SharedTheoryDiscoverer", "OpenVret.Signals.Tests")]
public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute(params string[] requiredPath)
    {
        string? missing = SharedRequirement.DataMissing(requiredPath);
        Skip = SharedRequirement.SkipFor(missing);
        RequiredButMissing = SharedRequirement.FailureFor(missing);
    }

    public string? RequiredButMissing { get; }
}

/// <summary>Reports a data fact whose required data is missing as a failed test naming the missing file (xunit's error test case).</summary>
public sealed class SharedFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    private readonly IMessageSink _sink = diagnosticMessageSink;

    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        factAttribute.GetNamedArgument<string?>("RequiredButMissing") is { } failure
            ? [new ExecutionErrorTestCase(_sink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, failure)]
            : base.Discover(discoveryOptions, testMethod, factAttribute);
}

public sealed class SharedTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    private readonly IMessageSink _sink = diagnosticMessageSink;

    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo theoryAttribute) =>
        theoryAttribute.GetNamedArgument<string?>("RequiredButMissing") is { } failure
            ? [new ExecutionErrorTestCase(_sink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, failure)]
            : base.Discover(discoveryOptions, testMethod, theoryAttribute);
}
