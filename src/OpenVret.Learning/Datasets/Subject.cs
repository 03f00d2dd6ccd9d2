using OpenVret.Signals;

namespace OpenVret.Learning.Datasets;

/// <summary>A labelled stretch of a recording, in seconds from the recording's start.</summary>
public sealed record LabelledSegment(string Label, double StartSeconds, double EndSeconds)
{
    public double DurationSeconds => EndSeconds - StartSeconds;
}

/// <summary>One subject: the recording, its labelled segments, attributes for subgroup analysis, and what was missing.</summary>
public sealed record Subject(string Id, Recording Recording, IReadOnlyList<LabelledSegment> Segments,
    IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<string> MissingFiles);

/// <summary>A dataset: the subjects that loaded, and the reasons others did not.</summary>
public sealed record Dataset(string Name, string Source, IReadOnlyList<Subject> Subjects, IReadOnlyList<string> Problems);

/// <summary>The dataset layouts the tools read, by name: one place that maps a name to its loader.</summary>
public static class DatasetLayouts
{
    public static readonly IReadOnlyList<string> Names = ["wesad", "wise", "generic"];

    public static Dataset Load(string layout, string path) => layout switch
    {
        "wesad" => WesadLoader.Load(path),
        "wise" or "wise-stress" => WiseStressLoader.Load(path),
        "generic" => GenericLoader.Load(path),
        _ => throw new OpenVret.Signals.SignalInputException("dataset", layout, $"one of {string.Join(", ", Names)}"),
    };
}
