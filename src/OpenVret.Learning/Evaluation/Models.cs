using Microsoft.ML;
using Microsoft.ML.Data;

namespace OpenVret.Learning.Evaluation;

public enum ModelKind { LightGbm, Logistic }

/// <summary>An ML.NET binary classifier over feature vectors; returns raw scores (calibration happens outside).</summary>
public sealed class ScoreModel
{
    private sealed class Row
    {
        public bool Label { get; set; }
        [VectorType] public float[] Features { get; set; } = Array.Empty<float>();
    }
    private sealed class Output { public float Score { get; set; } }

    private readonly PredictionEngine<Row, Output> _engine;
    public int FeatureCount { get; }

    private ScoreModel(PredictionEngine<Row, Output> engine, int n) { _engine = engine; FeatureCount = n; }

    public static ScoreModel Train(IReadOnlyList<(float[] Features, bool Label)> data, ModelKind kind, int seed)
    {
        var ml = new MLContext(seed);
        int n = data[0].Features.Length;
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, n);
        var view = ml.Data.LoadFromEnumerable(data.Select(d => new Row { Label = d.Label, Features = d.Features }), schema);
        IEstimator<ITransformer> pipeline = kind switch
        {
            // Gradient-boosted trees handle missing values natively.
            ModelKind.LightGbm => ml.BinaryClassification.Trainers.LightGbm(new Microsoft.ML.Trainers.LightGbm.LightGbmBinaryTrainer.Options
            {
                NumberOfIterations = 150, LearningRate = 0.05, NumberOfLeaves = 15, MinimumExampleCountPerLeaf = 20, Seed = seed,
                Silent = true, NumberOfThreads = 1,
            }),
            // Logistic regression: missing values replaced by the training mean, features scaled to mean 0 / variance 1.
            _ => ml.Transforms.ReplaceMissingValues("Features", replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean)
                .Append(ml.Transforms.NormalizeMeanVariance("Features"))
                .Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(l2Regularization: 1f)),
        };
        var model = pipeline.Fit(view);
        var engine = ml.Model.CreatePredictionEngine<Row, Output>(model, inputSchemaDefinition: schema);
        return new ScoreModel(engine, n);
    }

    public double Score(float[] features) => _engine.Predict(new Row { Features = features }).Score;
}
