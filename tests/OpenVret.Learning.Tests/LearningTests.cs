using OpenVret.Learning;
using OpenVret.Learning.Datasets;
using OpenVret.Learning.Evaluation;
using OpenVret.Signals;
using OpenVret.Signals.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Learning.Tests;

public sealed class MetricTests
{
    [Theory]
    [InlineData("7.08", 428)] [InlineData("50.3", 3030)] [InlineData("12", 720)] [InlineData("26.32", 1592)] [InlineData("0.5", 50)]
    public void WesadMinutesSecondsAreReadWithTheTrailingZeroDropped(string text, double seconds) =>
        Assert.Equal(seconds, WesadLoader.ParseMinutesSeconds(text, "t"));

    [Fact]
    public void BadQuestTimesAreNamed() =>
        Assert.Contains("START:Base = 7.75", Assert.Throws<SignalInputException>(() => WesadLoader.ParseMinutesSeconds("7.75", "START:Base")).Message);

    [Fact]
    public void AurocEceAndBrierHaveTheirTextbookValues()
    {
        var perfect = new[] { new Prediction("a", true, 0.9, true), new Prediction("a", false, 0.1, false), new Prediction("a", true, 0.8, true), new Prediction("a", false, 0.3, false) };
        var m = BinaryMetrics.Of(perfect);
        Assert.Equal(1, m.Auroc);
        Assert.Equal(1, m.MacroF1);
        var inverted = perfect.Select(p => p with { Probability = 1 - p.Probability }).ToList();
        Assert.Equal(0, BinaryMetrics.AurocOf(inverted));
        var tie = new[] { new Prediction("a", true, 0.5, true), new Prediction("a", false, 0.5, true) };
        Assert.Equal(0.5, BinaryMetrics.AurocOf(tie));
        // Calibrated in each bin: 10 predictions at 0.3 of which 3 true.
        var cal = Enumerable.Range(0, 10).Select(i => new Prediction("a", i < 3, 0.3, false)).ToList();
        Assert.Equal(0, BinaryMetrics.EceOf(cal), 9);
        Assert.Equal((3 * 0.49 + 7 * 0.09) / 10, BinaryMetrics.Of(cal).Brier, 9);
    }

    [Fact]
    public void PlattScalingRecoversAKnownLogisticMapping()
    {
        var rng = new Random(2);
        var data = Enumerable.Range(0, 4000).Select(_ =>
        {
            double s = rng.NextDouble() * 8 - 4;
            double p = 1 / (1 + Math.Exp(-1.5 * s + 0.5));
            return (s, rng.NextDouble() < p);
        }).ToList();
        var platt = PlattScaling.Fit(data);
        Assert.InRange(platt.A, -1.7, -1.3);
        Assert.InRange(platt.B, 0.3, 0.7);
    }
}

public sealed class WesadTests(ITestOutputHelper output)
{
    private static readonly Lazy<Dataset> Wesad = new(() => WesadLoader.Load(SharedData.Data("wesad-e4")));

    [SharedDataFact("wesad-e4", "e4_alignment_offsets.csv")]
    public void SegmentsLandOnTheE4TimelineWithTheDocumentedDurations()
    {
        var ds = Wesad.Value;
        Assert.Equal(15, ds.Subjects.Count);
        var offsets = File.ReadAllLines(SharedData.Data("wesad-e4", "e4_alignment_offsets.csv")).Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => f[0], f => (Baseline: double.Parse(f[4]), Stress: double.Parse(f[5]), Amusement: double.Parse(f[6])));
        foreach (var s in ds.Subjects)
        {
            double Dur(string label) => s.Segments.Where(x => x.Label == label).Sum(x => x.DurationSeconds);
            Assert.InRange(Dur("baseline"), offsets[s.Id].Baseline - 2, offsets[s.Id].Baseline + 2);
            Assert.InRange(Dur("stress"), offsets[s.Id].Stress - 2, offsets[s.Id].Stress + 2);
            Assert.InRange(Dur("amusement"), offsets[s.Id].Amusement - 2, offsets[s.Id].Amusement + 2);
            Assert.Contains("gender", s.Attributes.Keys);
        }
    }

    [SharedDataFact("wesad-e4", "e4_alignment_offsets.csv")]
    public void EdaIsHigherUnderStressThanAtBaselineForAlmostEverySubject()
    {
        int higher = 0;
        foreach (var s in Wesad.Value.Subjects)
        {
            var eda = s.Recording.Channels.Single(c => c.Modality == Modality.Eda).Signal;
            double Mean(LabelledSegment seg) => eda.Samples.Skip((int)(seg.StartSeconds * 4)).Take((int)(seg.DurationSeconds * 4)).Where(double.IsFinite).Average();
            if (Mean(s.Segments.First(x => x.Label == "stress")) > Mean(s.Segments.First(x => x.Label == "baseline"))) higher++;
        }
        output.WriteLine($"EDA higher in stress than baseline for {higher} of 15 subjects");
        Assert.True(higher >= 14, $"only {higher} of 15: the label alignment is wrong");
    }

    [SharedDataFact("wesad-e4", "e4_alignment_offsets.csv")]
    public void LeaveOneSubjectOutNeverTrainsOnTheTestSubjectAndBeatsChance()
    {
        var ds = Wesad.Value;
        var subjects = ds.Subjects.Take(8).ToList();
        var windows = subjects.ToDictionary(s => s.Id, s => WindowTable.Build(s, 60, 30));
        var r = Loso.Run(subjects, windows, new LosoOptions { Model = ModelKind.Logistic });
        Assert.Equal(subjects.Count, r.Folds.Count);
        Assert.All(r.Folds, f => Assert.DoesNotContain(f.Test, f.Training));
        // Calibration-period windows are never scored.
        var scored = r.Predictions.Count;
        Assert.Equal(windows.Values.Sum(w => w.Count(x => !x.InCalibration && x.Label is "baseline" or "stress" or "amusement")), scored);
        output.WriteLine($"8-subject LOSO: macro-F1 {r.Pooled.MacroF1:0.000}, AUROC {r.Pooled.Auroc:0.000}, ECE {r.Pooled.Ece:0.000}");
        Assert.True(r.Pooled.Auroc > 0.75);
    }
}
