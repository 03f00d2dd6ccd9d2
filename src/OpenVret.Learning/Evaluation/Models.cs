using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Transforms;

namespace OpenVret.Learning.Evaluation;

public enum ModelKind { LightGbm, Logistic }

/// <summary>The knobs a model selection may turn: L2 strength of the logistic model, boosting rounds of the trees.</summary>
public sealed record ModelSettings(float L2 = 1f, int Iterations = Training.Iterations);

/// <summary>Settings and preprocessing shared by the binary and the three-class models.</summary>
public static class Training
{
    // Gradient boosting for every LightGBM model here; single-threaded so that results are reproducible.
    public const int Iterations = 150, Leaves = 15, MinimumLeafCount = 20;
    public const double LearningRate = 0.05;

    /// <summary>Per-feature mean of the finite training values (0 when a feature is never present).</summary>
    public static float[] FeatureMeans(IEnumerable<float[]> rows, int n)
    {
        var sum = new double[n];
        var count = new int[n];
        foreach (var r in rows)
            for (int i = 0; i < n; i++)
                if (float.IsFinite(r[i])) { sum[i] += r[i]; count[i]++; }
        return Enumerable.Range(0, n).Select(i => count[i] > 0 ? (float)(sum[i] / count[i]) : 0f).ToArray();
    }

    /// <summary>Missing (non-finite) values replaced by the training mean.</summary>
    public static float[] Fill(float[] x, float[] means) => x.Select((v, i) => float.IsFinite(v) ? v : means[i]).ToArray();
}

/// <summary>
/// A logistic model as plain numbers, trained by ML.NET (L-BFGS logistic regression on mean-imputed,
/// mean/variance-normalised features) and read back: score = sum w_i ((x_i - offset_i) * scale_i) + b.
/// Scoring is a dot product (live inference in well under a microsecond), and contributions are exact.
/// </summary>
public sealed record LinearModel(float[] Means, float[] Offset, float[] Scale, float[] Weights, float Bias)
{
    public double Score(ReadOnlySpan<float> x)
    {
        double s = Bias;
        for (int i = 0; i < Weights.Length; i++) s += Weights[i] * Standardised(x[i], i);
        return s;
    }

    public double Standardised(float x, int i) => ((float.IsFinite(x) ? x : Means[i]) - Offset[i]) * Scale[i];
}

/// <summary>An ML.NET binary classifier over feature vectors; returns raw scores (calibration happens outside).</summary>
public sealed class ScoreModel
{
    private sealed class Row
    {
        public bool Label { get; set; }
        [VectorType] public float[] Features { get; set; } = Array.Empty<float>();
    }
    private sealed class Output { public float Score { get; set; } }

    private readonly PredictionEngine<Row, Output>? _engine;
    private readonly (MLContext Ml, ITransformer Model, DataViewSchema Schema)? _trees;
    public LinearModel? Linear { get; }
    public int FeatureCount { get; }

    private ScoreModel(PredictionEngine<Row, Output>? engine, LinearModel? linear, int n, (MLContext, ITransformer, DataViewSchema)? trees = null)
    {
        _engine = engine; Linear = linear; FeatureCount = n; _trees = trees;
    }

    /// <summary>Saves the model: a linear model as JSON numbers, a tree model as an ML.NET model archive.</summary>
    public void Save(string path)
    {
        if (Linear is not null)
        {
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(Linear, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return;
        }
        var (ml, model, schema) = _trees!.Value;
        ml.Model.Save(model, schema, path);
    }

    /// <summary>Loads what <see cref="Save"/> wrote (the kind says which format).</summary>
    public static ScoreModel Load(string path, ModelKind kind, int features)
    {
        if (kind == ModelKind.Logistic)
        {
            var linear = System.Text.Json.JsonSerializer.Deserialize<LinearModel>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"{path}: not a linear model");
            if (linear.Weights.Length != features) throw new InvalidDataException($"{path}: {linear.Weights.Length} weights, expected {features}");
            return new ScoreModel(null, linear, features);
        }
        var ml = new MLContext(1);
        var model = ml.Model.Load(path, out var inputSchema);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
        return new ScoreModel(ml.Model.CreatePredictionEngine<Row, Output>(model, inputSchemaDefinition: schema), null, features, (ml, model, inputSchema));
    }

    public static ScoreModel Train(IReadOnlyList<(float[] Features, bool Label)> data, ModelKind kind, int seed, ModelSettings? settings = null)
    {
        settings ??= new ModelSettings();
        var ml = new MLContext(seed);
        int n = data[0].Features.Length;
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, n);
        if (kind == ModelKind.Logistic)
        {
            // Missing values replaced by the training mean here, so that the model is fully described by numbers.
            var means = Training.FeatureMeans(data.Select(d => d.Features), n);
            var filled = data.Select(d => new Row { Label = d.Label, Features = Training.Fill(d.Features, means) });
            var view = ml.Data.LoadFromEnumerable(filled, schema);
            var pipeline = ml.Transforms.NormalizeMeanVariance("Features").Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(l2Regularization: settings.L2));
            var model = pipeline.Fit(view);
            var normalizer = (model.First() as NormalizingTransformer)!.GetNormalizerModelParameters(0) as NormalizingTransformer.AffineNormalizerModelParameters<System.Collections.Immutable.ImmutableArray<float>>;
            var lr = model.LastTransformer.Model.SubModel;
            var linear = new LinearModel(means, normalizer!.Offset.IsDefaultOrEmpty ? new float[n] : normalizer.Offset.ToArray(), normalizer.Scale.ToArray(), lr.Weights.ToArray(), lr.Bias);
            return new ScoreModel(null, linear, n);
        }
        var lgbmView = ml.Data.LoadFromEnumerable(data.Select(d => new Row { Label = d.Label, Features = d.Features }), schema);
        // Gradient-boosted trees handle missing values natively.
        var trees = ml.BinaryClassification.Trainers.LightGbm(new Microsoft.ML.Trainers.LightGbm.LightGbmBinaryTrainer.Options
        {
            NumberOfIterations = settings.Iterations, LearningRate = Training.LearningRate, NumberOfLeaves = Training.Leaves,
            MinimumExampleCountPerLeaf = Training.MinimumLeafCount, Seed = seed, Silent = true, NumberOfThreads = 1,
        }).Fit(lgbmView);
        return new ScoreModel(ml.Model.CreatePredictionEngine<Row, Output>(trees, inputSchemaDefinition: schema), null, n, (ml, trees, lgbmView.Schema));
    }

    public double Score(float[] features) => Linear is not null ? Linear.Score(features) : _engine!.Predict(new Row { Features = features }).Score;
}
