using System.Text.Json;
using OpenVret.Learning.Evaluation;

namespace OpenVret.Learning.Outcome;

/// <summary>What a saved outcome model is: its features, kind, calibration and threshold (the scorer is a file beside it).</summary>
public sealed record OutcomeModelInfo(string Name, ModelKind Kind, string FeatureSet, IReadOnlyList<string> Columns, double PlattA, double PlattB,
    double Threshold, float[] Means, string Outcome, int Sessions, string File);

/// <summary>The final models of <c>openvret outcome train</c> (trained on all data), saved to and loaded from a folder.</summary>
public static class OutcomeModelStore
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public static List<OutcomeModelInfo> Save(string folder, IReadOnlyList<(string Name, OutcomeValidation.Fitted Fitted)> models, string outcome, int sessions)
    {
        Directory.CreateDirectory(folder);
        var infos = new List<OutcomeModelInfo>();
        for (int i = 0; i < models.Count; i++)
        {
            var (name, f) = models[i];
            var kind = f.Model.Linear is null ? ModelKind.LightGbm : ModelKind.Logistic;
            string file = $"model-{i}.{(kind == ModelKind.Logistic ? "json" : "zip")}";
            f.Model.Save(Path.Combine(folder, file));
            infos.Add(new OutcomeModelInfo(name, kind, f.Features.Name, f.Features.Columns, f.Platt.A, f.Platt.B, f.Threshold, f.Means, outcome, sessions, file));
        }
        File.WriteAllText(Path.Combine(folder, "models.json"), JsonSerializer.Serialize(infos, Json));
        return infos;
    }

    public static List<(OutcomeModelInfo Info, OutcomeValidation.Fitted Fitted)> Load(string folder)
    {
        var path = Path.Combine(folder, "models.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no outcome models here (run openvret outcome train first)", path);
        var infos = JsonSerializer.Deserialize<List<OutcomeModelInfo>>(File.ReadAllText(path), Json) ?? [];
        return infos.Select(i => (i, new OutcomeValidation.Fitted(ScoreModel.Load(Path.Combine(folder, i.File), i.Kind, i.Columns.Count),
            new PlattScaling(i.PlattA, i.PlattB), i.Threshold, i.Means, new FeatureSet(i.FeatureSet, i.Columns)))).ToList();
    }

    /// <summary>
    /// External validation: the saved models score a new dataset (other sites, other clinics); metrics, the
    /// comparison with the clinical baseline (the first model) and subgroups, as in training.
    /// </summary>
    public static ValidationResult Evaluate(IReadOnlyList<(OutcomeModelInfo Info, OutcomeValidation.Fitted Fitted)> models, IReadOnlyList<OutcomeRecord> data, OutcomeOptions o)
    {
        var outcome = models[0].Info.Outcome;
        var (usable, _) = OutcomeValidation.Labelled(data, outcome);
        var evaluations = models.Select(m =>
        {
            var preds = usable.Select(r =>
            {
                double p = m.Fitted.Probability(m.Fitted.Features.Vector(r));
                return new Prediction(r.Patient, r.Outcomes[outcome] == 1, p, p >= m.Fitted.Threshold);
            }).ToList();
            return new ModelEvaluation(m.Info.Name, m.Info.Kind, m.Fitted.Features, BinaryMetrics.Of(preds), preds, OutcomeValidation.DecisionCurve(preds), new Dictionary<string, double>(), null);
        }).ToList();
        return new ValidationResult("external validation (models trained elsewhere, applied unchanged)", evaluations, OutcomeValidation.Compare(evaluations, o), [],
            Subgroups.Of(evaluations[Math.Min(1, evaluations.Count - 1)].Predictions, OutcomeValidation.Attributes(usable)));
    }
}
