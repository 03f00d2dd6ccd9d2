using OpenVret.Learning.Datasets;
using OpenVret.Learning.Evaluation;

namespace OpenVret.Learning.Transfer;

/// <summary>One held-out evaluation of the generalisation study: which data trained, which data tested, and the scores.</summary>
public sealed record HeldOut(string Scheme, string TrainedOn, string TestedOn, LabEvaluation Result, Selection Selection);

/// <summary>The whole study: leave-one-dataset-out with its adaptation and baseline curves, and LOSO inside each dataset.</summary>
public sealed record GeneralisationStudy(
    IReadOnlyList<HeldOut> LeaveOneDatasetOut,
    IReadOnlyList<HeldOut> AdaptationCurve,
    IReadOnlyList<HeldOut> BaselineCurve,
    IReadOnlyList<HeldOut> WithinDataset,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, (double Weight, double Auroc)>> FeatureTransfer,
    ThreeClassResult? ThreeClass);

/// <summary>Three-class (baseline / stress / amusement) LOSO on the one dataset that has all three.</summary>
public sealed record ThreeClassResult(string Dataset, MulticlassMetrics Metrics, int Subjects);

/// <summary>
/// Runs the generalisation study the card reports. Leave-one-dataset-out: train on every dataset but one (all
/// choices inside, <see cref="CrossLab.Train"/>), test on the held-out one at the live default baseline, then
/// with N s of labelled adaptation and with other baseline lengths. Within each dataset: leave-one-subject-out,
/// every fold choosing on its training subjects only. Feature transfer: per dataset, the univariate AUROC of each
/// feature's change (above 0.5 = rises with stress) and the weight a model trained on that dataset alone gives it.
/// </summary>
public static class Generalisation
{
    public static readonly double[] AdaptSeconds = [0, 30, 60, 120, 300];
    // 60 s windows with a 10 s hop: a baseline needs 80 s for the 3 windows calibration requires.
    public static readonly double[] BaselineSeconds = [90, 120, 180, 300, 600];

    public static GeneralisationStudy Run(IReadOnlyList<LabData> labs, CrossLabOptions o, Action<string>? log = null)
    {
        var lodo = new List<HeldOut>();
        var adapt = new List<HeldOut>();
        var baseline = new List<HeldOut>();
        foreach (var test in labs)
        {
            var train = labs.Where(l => l != test).ToList();
            var (model, sel) = CrossLab.Train(train, o, "fold", "");
            string trainedOn = string.Join(" + ", train.Select(t => t.Key));
            var main = CrossLab.Evaluate(model, test, o.BaselineSeconds, 0);
            lodo.Add(new HeldOut("leave-one-dataset-out", trainedOn, test.Key, main, sel));
            log?.Invoke($"train {trainedOn} -> test {test.Key}: AUROC {main.Pooled.Auroc:0.000}, macro-F1 {main.Pooled.MacroF1:0.000}, ECE {main.Pooled.Ece:0.000}, median subject AUROC {main.MedianSubjectAuroc:0.000} ({sel.Space.Name}, L2 {sel.L2})");
            foreach (var n in AdaptSeconds)
            {
                var r = n == 0 ? main : CrossLab.Evaluate(model, test, o.BaselineSeconds, n);
                adapt.Add(new HeldOut("leave-one-dataset-out, adaptation", trainedOn, test.Key, r, sel));
                log?.Invoke($"  adapt {n,4:0} s: AUROC {r.Pooled.Auroc:0.000}, macro-F1 {r.Pooled.MacroF1:0.000}, ECE {r.Pooled.Ece:0.000}, median subject AUROC {r.MedianSubjectAuroc:0.000}");
            }
            foreach (var b in BaselineSeconds)
            {
                // The baseline length is part of training too (the personal baseline every training subject gets).
                var (mb, sb) = b == o.BaselineSeconds ? (model, sel) : CrossLab.Train(train, o with { BaselineSeconds = b }, "fold", "");
                var r = CrossLab.Evaluate(mb, test, b, 0);
                baseline.Add(new HeldOut("leave-one-dataset-out, baseline length", trainedOn, test.Key, r, sb));
                log?.Invoke($"  baseline {b,4:0} s: AUROC {r.Pooled.Auroc:0.000}, macro-F1 {r.Pooled.MacroF1:0.000}, ECE {r.Pooled.Ece:0.000}, {r.PerSubject.Count} subjects evaluable");
            }
        }
        var within = new List<HeldOut>();
        foreach (var lab in labs)
        {
            var r = Loso(lab, o);
            within.Add(r);
            log?.Invoke($"LOSO inside {lab.Key}: AUROC {r.Result.Pooled.Auroc:0.000}, macro-F1 {r.Result.Pooled.MacroF1:0.000}, ECE {r.Result.Pooled.Ece:0.000}, median subject AUROC {r.Result.MedianSubjectAuroc:0.000}");
        }
        ThreeClassResult? three = null;
        var withAmusement = labs.FirstOrDefault(l => l.Windows.Values.Any(w => w.Any(x => x.Label == "amusement")));
        if (withAmusement is not null)
        {
            var marked = withAmusement.Data.Subjects.Where(s => withAmusement.Windows.ContainsKey(s.Id))
                .ToDictionary(s => s.Id, s => WindowTable.WithBaseline(withAmusement.Windows[s.Id], s, o.BaselineSeconds));
            var (pooled, per) = MulticlassLoso.Run(withAmusement.Data.Subjects, marked, ModelKind.Logistic, personalize: true, seed: o.Seed);
            three = new ThreeClassResult(withAmusement.Key, pooled, per.Count);
            log?.Invoke($"three-class LOSO inside {withAmusement.Key}: macro-F1 {pooled.MacroF1:0.000}, balanced accuracy {pooled.BalancedAccuracy:0.000}");
        }
        return new GeneralisationStudy(lodo, adapt, baseline, within, FeatureTransfer(labs, o), three);
    }

    /// <summary>Leave-one-subject-out inside one dataset; each fold selects and calibrates on its own training subjects.</summary>
    public static HeldOut Loso(LabData lab, CrossLabOptions o)
    {
        var predictions = new List<Prediction>();
        var per = new List<SubjectResult>();
        var notEvaluable = new List<string>();
        Selection? last = null;
        int adapted = 0, low = 0, ood = 0;
        foreach (var s in lab.Data.Subjects)
        {
            var trainData = lab.Data with { Subjects = lab.Data.Subjects.Where(x => x.Id != s.Id).ToList() };
            var (model, sel) = CrossLab.Train([lab with { Data = trainData }], o with { Spaces = o.Spaces, Priors = [o.Priors[0]] }, "fold", "");
            last = sel;
            var r = CrossLab.EvaluateSubject(model, s, lab.Windows[s.Id], o.BaselineSeconds, 0);
            if (r is null || r.Value.Predictions.Count == 0) { notEvaluable.Add($"{s.Id}: not evaluable"); continue; }
            predictions.AddRange(r.Value.Predictions);
            per.Add(new SubjectResult(s.Id, BinaryMetrics.Of(r.Value.Predictions), s.Attributes));
            low += r.Value.LowConfidence; if (r.Value.OutOfRange) ood++;
        }
        var ev = new LabEvaluation(lab.Data.Name, o.BaselineSeconds, 0, BinaryMetrics.Of(predictions), per, predictions, notEvaluable, adapted, low, ood);
        return new HeldOut("leave-one-subject-out", $"{lab.Key} minus the test subject", lab.Key, ev, last!);
    }

    /// <summary>Per dataset and feature (relative-change space): univariate AUROC of the change, and the weight of a model trained on that dataset alone.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, (double Weight, double Auroc)>> FeatureTransfer(IReadOnlyList<LabData> labs, CrossLabOptions o)
    {
        var space = FeatureSpace.Candidates.First(c => c.Name == "pulse + EDA, relative changes");
        var res = new Dictionary<string, IReadOnlyDictionary<string, (double, double)>>();
        foreach (var lab in labs)
        {
            var rows = new List<(float[] X, bool Y)>();
            foreach (var s in lab.Data.Subjects)
            {
                var marked = WindowTable.WithBaseline(lab.Windows[s.Id], s, o.BaselineSeconds);
                if (CrossLab.BaselineOf(marked) is { } b) rows.AddRange(CrossLab.RowsOf(space, marked, b));
            }
            if (rows.Count == 0 || rows.All(r => r.Y) || rows.All(r => !r.Y)) continue;
            var m = ScoreModel.Train(rows, ModelKind.Logistic, o.Seed, new ModelSettings(1f));
            var d = new Dictionary<string, (double, double)>();
            for (int j = 0; j < space.Features.Count; j++)
            {
                var preds = rows.Where(r => float.IsFinite(r.X[j])).Select(r => new Prediction("", r.Y, r.X[j], false)).ToList();
                d[space.Features[j]] = (m.Linear!.Weights[j], BinaryMetrics.AurocOf(preds));
            }
            res[lab.Key] = d;
        }
        return res;
    }
}
