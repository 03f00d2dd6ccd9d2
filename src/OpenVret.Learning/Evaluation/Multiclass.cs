using Microsoft.ML;
using Microsoft.ML.Data;
using OpenVret.Learning.Datasets;

namespace OpenVret.Learning.Evaluation;

/// <summary>Multiclass metrics: accuracy, balanced accuracy (mean recall), macro-F1 and the confusion matrix.</summary>
public sealed record MulticlassMetrics(IReadOnlyList<string> Classes, int N, double Accuracy, double BalancedAccuracy, double MacroF1, int[,] Confusion)
{
    public static MulticlassMetrics Of(IReadOnlyList<string> classes, IReadOnlyList<(string Truth, string Predicted)> p)
    {
        int k = classes.Count;
        var cm = new int[k, k];
        foreach (var (t, pr) in p) cm[IndexOf(classes, t), IndexOf(classes, pr)]++;
        double recallSum = 0, f1Sum = 0; int present = 0;
        for (int c = 0; c < k; c++)
        {
            int tp = cm[c, c], fn = Enumerable.Range(0, k).Sum(j => cm[c, j]) - tp, fp = Enumerable.Range(0, k).Sum(i => cm[i, c]) - tp;
            if (tp + fn == 0) continue;
            present++;
            recallSum += (double)tp / (tp + fn);
            f1Sum += 2.0 * tp / Math.Max(1, 2 * tp + fp + fn);
        }
        double acc = p.Count == 0 ? double.NaN : (double)Enumerable.Range(0, k).Sum(c => cm[c, c]) / p.Count;
        return new MulticlassMetrics(classes, p.Count, acc, recallSum / Math.Max(1, present), f1Sum / Math.Max(1, present), cm);
    }

    private static int IndexOf(IReadOnlyList<string> classes, string c)
    {
        for (int i = 0; i < classes.Count; i++) if (classes[i] == c) return i;
        throw new ArgumentException($"unknown class {c}");
    }
}

/// <summary>
/// Three-class leave-one-subject-out (baseline / stress / amusement) with multinomial logistic regression
/// (ML.NET L-BFGS maximum entropy) or LightGBM, on the same personalised features as the binary task.
/// </summary>
public static class MulticlassLoso
{
    private sealed class Row
    {
        public string Label { get; set; } = "";
        [VectorType] public float[] Features { get; set; } = Array.Empty<float>();
    }
    private sealed class Output { public string PredictedLabelText { get; set; } = ""; }

    public static readonly string[] Classes = { "baseline", "stress", "amusement" };

    public static (MulticlassMetrics Pooled, IReadOnlyList<(string Subject, MulticlassMetrics Metrics)> PerSubject) Run(
        IReadOnlyList<Subject> subjects, IReadOnlyDictionary<string, List<LabelledWindow>> windows, ModelKind kind, bool personalize = true, int seed = 1)
    {
        var prepared = windows.ToDictionary(kv => kv.Key, kv => (personalize ? Personalization.Apply(kv.Value) : kv.Value).Where(w => Classes.Contains(w.Label)).ToList());
        var ids = subjects.Select(s => s.Id).Where(prepared.ContainsKey).ToList();
        int n = WindowTable.FeatureNames.Length;
        var all = new List<(string, string)>();
        var per = new List<(string, MulticlassMetrics)>();
        foreach (var test in ids)
        {
            var train = ids.Where(i => i != test).SelectMany(i => prepared[i]).Where(w => !w.PoorQuality).ToList();
            var means = Training.FeatureMeans(train.Select(w => w.Features), n);
            float[] Fill(float[] x) => Training.Fill(x, means);
            var ml = new MLContext(seed);
            var schema = SchemaDefinition.Create(typeof(Row));
            schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, n);
            var view = ml.Data.LoadFromEnumerable(train.Select(w => new Row { Label = w.Label, Features = Fill(w.Features) }), schema);
            var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.NormalizeMeanVariance("Features"))
                .Append(kind == ModelKind.Logistic
                    ? ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(l2Regularization: 1f)
                    : (IEstimator<ITransformer>)ml.MulticlassClassification.Trainers.LightGbm(new Microsoft.ML.Trainers.LightGbm.LightGbmMulticlassTrainer.Options
                    {
                        NumberOfIterations = Training.Iterations, LearningRate = Training.LearningRate, NumberOfLeaves = Training.Leaves,
                        MinimumExampleCountPerLeaf = Training.MinimumLeafCount, Seed = seed, Silent = true, NumberOfThreads = 1,
                    }))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabelText", "PredictedLabel"));
            var model = pipeline.Fit(view);
            var engine = ml.Model.CreatePredictionEngine<Row, Output>(model, inputSchemaDefinition: schema);
            var preds = prepared[test].Where(w => !w.InCalibration).Select(w => (w.Label, engine.Predict(new Row { Features = Fill(w.Features) }).PredictedLabelText)).ToList();
            if (preds.Count == 0) continue;
            all.AddRange(preds);
            per.Add((test, MulticlassMetrics.Of(Classes, preds)));
        }
        return (MulticlassMetrics.Of(Classes, all), per);
    }
}
