using OpenVret.Dialogue.Personas;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenVret.Dialogue.Guardrails;

/// <summary>One labelled training utterance: a C-SSRS-style category (or a negative type starting with "neg_") and its minimum level.</summary>
public sealed record TrainingItem(string Label, RiskLevel Level, string Text)
{
    public bool Positive => !Label.StartsWith("neg_", StringComparison.Ordinal);

    /// <summary>Reads a training TSV (label TAB level TAB text; '#' lines are comments). Bad lines name the file, line and value.</summary>
    public static List<TrainingItem> Load(string path)
    {
        var items = new List<TrainingItem>();
        int n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var p = line.Split('\t');
            if (p.Length != 3) throw new DialogueInputException($"{Path.GetFileName(path)}:{n}", line, $"{Path.GetFileName(path)} line {n}: expected 3 tab-separated columns (label, level, text), got {p.Length}");
            var level = p[1] switch
            {
                "none" => RiskLevel.None,
                "concern" => RiskLevel.Concern,
                "high" => RiskLevel.High,
                "imminent" => RiskLevel.Imminent,
                _ => throw new DialogueInputException($"{Path.GetFileName(path)}:{n}.level", p[1], $"{Path.GetFileName(path)} line {n}: level '{p[1]}' is not none, concern, high or imminent"),
            };
            var item = new TrainingItem(p[0], level, p[2]);
            if (item.Positive == (level == RiskLevel.None))
                throw new DialogueInputException($"{Path.GetFileName(path)}:{n}.level", p[1], $"{Path.GetFileName(path)} line {n}: label '{p[0]}' and level '{p[1]}' disagree (negatives are neg_* with level none)");
            if (item.Positive && !CrisisModel.PositiveClasses.Contains(p[0]))
                throw new DialogueInputException($"{Path.GetFileName(path)}:{n}.label", p[0], $"{Path.GetFileName(path)} line {n}: unknown category '{p[0]}' (known: {string.Join(", ", CrisisModel.PositiveClasses)})");
            items.Add(item);
        }
        return items;
    }
}

/// <summary>
/// The learned part of the crisis screen: a multinomial logistic regression (softmax) over sentence embeddings, one
/// class for "none" and one per C-SSRS-style category. Its crisis score is 1 - p(none); two thresholds, chosen by
/// inner cross-validation on the training data only, give Concern and High. Weights ship as a small JSON file
/// (models/crisis-screen/weights.json, embedded in this assembly) written by <c>openvret dialogue train-screen</c>.
/// </summary>
public sealed class CrisisModel
{
    public static readonly string[] PositiveClasses = ["passive_wish", "active_ideation", "method", "intent", "plan", "preparatory", "self_harm", "harm_to_others", "burden_intent"];

    public static RiskLevel LevelOf(string category) => category switch
    {
        "passive_wish" => RiskLevel.Concern,
        "plan" or "preparatory" => RiskLevel.Imminent,
        _ => RiskLevel.High,
    };

    public static ScreenCategory CoarseOf(string category) => category switch
    {
        "self_harm" => ScreenCategory.SelfHarm,
        "harm_to_others" => ScreenCategory.HarmToOthers,
        _ => ScreenCategory.SuicidalIdeation,
    };

    public sealed class Weights
    {
        [JsonPropertyName("embedder")] public string Embedder { get; set; } = "";
        [JsonPropertyName("classes")] public string[] Classes { get; set; } = [];
        [JsonPropertyName("lambda")] public double Lambda { get; set; }
        [JsonPropertyName("concernThreshold")] public double ConcernThreshold { get; set; }
        [JsonPropertyName("highThreshold")] public double HighThreshold { get; set; }
        [JsonPropertyName("trainingFiles")] public string[] TrainingFiles { get; set; } = [];
        [JsonPropertyName("trainingSha256")] public string TrainingSha256 { get; set; } = "";
        [JsonPropertyName("trainingCount")] public int TrainingCount { get; set; }
        [JsonPropertyName("selection")] public string Selection { get; set; } = "";
        [JsonPropertyName("bias")] public float[] Bias { get; set; } = [];
        [JsonPropertyName("w")] public float[][] W { get; set; } = [];
    }

    public Weights Parameters { get; }

    public CrisisModel(Weights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Classes.Length < 2 || weights.Classes[0] != "none")
            throw new DialogueInputException("classes", string.Join(",", weights.Classes), "the model's first class must be 'none' and there must be at least two");
        if (weights.W.Length != weights.Classes.Length || weights.Bias.Length != weights.Classes.Length)
            throw new DialogueInputException("w", weights.W.Length.ToString(CultureInfo.InvariantCulture), $"the model has {weights.Classes.Length} classes but {weights.W.Length} weight rows and {weights.Bias.Length} biases");
        if (!(weights.ConcernThreshold is > 0 and < 1) || !(weights.HighThreshold is > 0 and < 1) || weights.HighThreshold < weights.ConcernThreshold)
            throw new DialogueInputException("concernThreshold", weights.ConcernThreshold.ToString(CultureInfo.InvariantCulture), $"thresholds must be within (0, 1) with concern <= high (got {weights.ConcernThreshold} and {weights.HighThreshold})");
        Parameters = weights;
    }

    public double ConcernThreshold => Parameters.ConcernThreshold;
    public double HighThreshold => Parameters.HighThreshold;

    /// <summary>The model shipped with this build (models/crisis-screen/weights.json as an embedded resource); null if the build has none.</summary>
    public static CrisisModel? Shipped()
    {
        using var s = typeof(CrisisModel).Assembly.GetManifestResourceStream("OpenVret.Dialogue.crisis-screen.weights.json");
        if (s == null) return null;
        return new CrisisModel(JsonSerializer.Deserialize<Weights>(s) ?? throw new InvalidDataException("empty crisis-screen weights"));
    }

    public static CrisisModel Load(string path) =>
        new(JsonSerializer.Deserialize<Weights>(File.ReadAllText(path)) ?? throw new DialogueInputException("weights", path, $"{path}: empty weights file"));

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(Parameters, new JsonSerializerOptions { WriteIndented = false }));

    /// <summary>Class probabilities for one embedding.</summary>
    public double[] Probabilities(float[] x) => Softmax(Parameters.W, Parameters.Bias, x);

    /// <summary>Crisis score (1 - p(none)) and the most likely crisis category.</summary>
    public (double Score, string Category) Score(float[] x)
    {
        var p = Probabilities(x);
        int best = 1;
        for (int k = 2; k < p.Length; k++) if (p[k] > p[best]) best = k;
        return (1 - p[0], Parameters.Classes[best]);
    }

    private static double[] Softmax(float[][] w, float[] b, float[] x)
    {
        var z = new double[w.Length];
        double max = double.NegativeInfinity;
        for (int k = 0; k < w.Length; k++)
        {
            double s = b[k];
            var row = w[k];
            for (int j = 0; j < x.Length; j++) s += row[j] * x[j];
            z[k] = s;
            if (s > max) max = s;
        }
        double sum = 0;
        for (int k = 0; k < z.Length; k++) { z[k] = Math.Exp(z[k] - max); sum += z[k]; }
        for (int k = 0; k < z.Length; k++) z[k] /= sum;
        return z;
    }

    // ------------------------------------------------------------------------------------------------ training

    public static string[] Classes => ["none", .. PositiveClasses];

    private static int ClassIndex(TrainingItem item) => item.Positive ? Array.IndexOf(PositiveClasses, item.Label) + 1 : 0;

    /// <summary>
    /// Fits softmax regression with L2 penalty <paramref name="lambda"/> by full-batch Adam; classes are weighted so
    /// that crises as a whole weigh as much as the negatives (the categories share the positive half equally).
    /// </summary>
    public static (float[][] W, float[] B) Fit(IReadOnlyList<float[]> x, IReadOnlyList<int> y, int classes, double lambda, int iterations = 500)
    {
        int n = x.Count, d = x[0].Length;
        var counts = new int[classes];
        foreach (var c in y) counts[c]++;
        int positiveClasses = counts.Skip(1).Count(c => c > 0);
        var weight = new double[classes];
        for (int k = 0; k < classes; k++)
            weight[k] = counts[k] == 0 ? 0 : k == 0 ? 0.5 * n / counts[0] : 0.5 * n / (positiveClasses * (double)counts[k]);
        var w = new double[classes, d];
        var b = new double[classes];
        var mw = new double[classes, d]; var vw = new double[classes, d];
        var mb = new double[classes]; var vb = new double[classes];
        const double lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        var gw = new double[classes, d];
        var gb = new double[classes];
        var z = new double[classes];
        for (int it = 1; it <= iterations; it++)
        {
            Array.Clear(gw); Array.Clear(gb);
            for (int i = 0; i < n; i++)
            {
                var xi = x[i];
                double max = double.NegativeInfinity;
                for (int k = 0; k < classes; k++)
                {
                    double s = b[k];
                    for (int j = 0; j < d; j++) s += w[k, j] * xi[j];
                    z[k] = s; if (s > max) max = s;
                }
                double sum = 0;
                for (int k = 0; k < classes; k++) { z[k] = Math.Exp(z[k] - max); sum += z[k]; }
                double wi = weight[y[i]];
                for (int k = 0; k < classes; k++)
                {
                    double g = wi * (z[k] / sum - (k == y[i] ? 1 : 0));
                    gb[k] += g;
                    for (int j = 0; j < d; j++) gw[k, j] += g * xi[j];
                }
            }
            for (int k = 0; k < classes; k++)
            {
                double g = gb[k] / n;
                mb[k] = b1 * mb[k] + (1 - b1) * g; vb[k] = b2 * vb[k] + (1 - b2) * g * g;
                b[k] -= lr * (mb[k] / (1 - Math.Pow(b1, it))) / (Math.Sqrt(vb[k] / (1 - Math.Pow(b2, it))) + eps);
                for (int j = 0; j < d; j++)
                {
                    g = gw[k, j] / n + lambda * w[k, j];
                    mw[k, j] = b1 * mw[k, j] + (1 - b1) * g; vw[k, j] = b2 * vw[k, j] + (1 - b2) * g * g;
                    w[k, j] -= lr * (mw[k, j] / (1 - Math.Pow(b1, it))) / (Math.Sqrt(vw[k, j] / (1 - Math.Pow(b2, it))) + eps);
                }
            }
        }
        var W = new float[classes][];
        for (int k = 0; k < classes; k++) { W[k] = new float[d]; for (int j = 0; j < d; j++) W[k][j] = (float)w[k, j]; }
        return (W, b.Select(v => (float)v).ToArray());
    }

    /// <summary>The result of training: the model and the out-of-fold (cross-validated) scores the thresholds came from.</summary>
    public sealed record TrainingReport(CrisisModel Model, IReadOnlyList<(double Lambda, double Recall, double FalseAlarms, double LogLoss)> Grid, double[] OutOfFoldScores, string[] OutOfFoldCategories);

    /// <summary>
    /// Trains on <paramref name="items"/> only. For each L2 penalty on a grid, 5-fold stratified cross-validation
    /// gives out-of-fold crisis scores; the penalty with the best cross-validated recall at the threshold that keeps
    /// false alarms within <paramref name="concernFalseAlarms"/> wins (log-loss breaks ties). The concern threshold is
    /// the lowest score keeping the out-of-fold false-alarm rate (fused with <paramref name="ruleHits"/>, which flag
    /// some items whatever the model says) within <paramref name="concernFalseAlarms"/>; the high threshold keeps it
    /// within <paramref name="highFalseAlarms"/>. The final model is fitted on all items.
    /// </summary>
    public static TrainingReport Train(IReadOnlyList<TrainingItem> items, IReadOnlyList<float[]> x, bool[] ruleHits, string[] files, string sha256,
        double concernFalseAlarms = 0.03, double highFalseAlarms = 0.01, int folds = 5, int seed = 21, TextWriter? log = null)
    {
        if (items.Count != x.Count || items.Count != ruleHits.Length) throw new ArgumentException("items, embeddings and rule hits must have the same length");
        var y = items.Select(ClassIndex).ToArray();
        var classes = Classes.Length;
        // Stratified folds: items of each label dealt round-robin after a seeded shuffle.
        var fold = new int[items.Count];
        var rng = new Random(seed);
        foreach (var group in Enumerable.Range(0, items.Count).GroupBy(i => items[i].Label))
        {
            var idx = group.OrderBy(_ => rng.Next()).ToList();
            for (int j = 0; j < idx.Count; j++) fold[idx[j]] = j % folds;
        }
        double[] lambdas = [1e-5, 1e-4, 1e-3];
        var grid = new List<(double, double, double, double)>();
        double bestLambda = lambdas[0], bestRecall = -1, bestLoss = double.PositiveInfinity;
        double[] bestOof = [];
        string[] bestCat = [];
        foreach (var lambda in lambdas)
        {
            var oof = new double[items.Count];
            var cat = new string[items.Count];
            double loss = 0;
            for (int f = 0; f < folds; f++)
            {
                var tr = Enumerable.Range(0, items.Count).Where(i => fold[i] != f).ToList();
                var (W, B) = Fit(tr.Select(i => x[i]).ToList(), tr.Select(i => y[i]).ToList(), classes, lambda);
                var m = new CrisisModel(new Weights { Classes = Classes, W = W, Bias = B, ConcernThreshold = 0.5, HighThreshold = 0.5 });
                foreach (var i in Enumerable.Range(0, items.Count).Where(i => fold[i] == f))
                {
                    var p = m.Probabilities(x[i]);
                    oof[i] = 1 - p[0];
                    (_, cat[i]) = m.Score(x[i]);
                    loss -= Math.Log(Math.Max(1e-12, p[y[i]]));
                }
            }
            loss /= items.Count;
            var t = Threshold(items, oof, ruleHits, concernFalseAlarms);
            var (recall, fa) = Rates(items, oof, ruleHits, t);
            grid.Add((lambda, recall, fa, loss));
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  lambda={lambda:G3}: cross-validated fused recall {recall:F3} at false alarms {fa:F3} (threshold {t:F3}), log-loss {loss:F3}"));
            if (recall > bestRecall + 1e-9 || (Math.Abs(recall - bestRecall) <= 1e-9 && loss < bestLoss))
            { bestLambda = lambda; bestRecall = recall; bestLoss = loss; bestOof = oof; bestCat = cat; }
        }
        double concern = Threshold(items, bestOof, ruleHits, concernFalseAlarms);
        double high = Math.Max(concern, Threshold(items, bestOof, ruleHits, highFalseAlarms));
        var (fw, fb) = Fit(x, y, classes, bestLambda);
        var weights = new Weights
        {
            Embedder = MiniLmEmbedder.ModelName,
            Classes = Classes,
            Lambda = bestLambda,
            ConcernThreshold = Math.Round(concern, 4),
            HighThreshold = Math.Round(high, 4),
            TrainingFiles = files,
            TrainingSha256 = sha256,
            TrainingCount = items.Count,
            Selection = string.Create(CultureInfo.InvariantCulture, $"{folds}-fold stratified inner cross-validation on the training files only (seed {seed}); lambda by fused recall with the model adding <= {concernFalseAlarms:P0} false alarms; concern threshold: the model adds <= {concernFalseAlarms:P0} out-of-fold false alarms beyond the rules', high: <= {highFalseAlarms:P0}"),
            W = fw,
            Bias = fb,
        };
        return new TrainingReport(new CrisisModel(weights), grid, bestOof, bestCat);
    }

    /// <summary>
    /// The lowest threshold at which the model, on the negatives the rules leave alone, adds at most
    /// <paramref name="limit"/> (as a share of all negatives) false alarms. The rules' own false alarms are not the
    /// model's to spend: they are fixed whatever the threshold, and counted in the fused rates reported beside it.
    /// </summary>
    private static double Threshold(IReadOnlyList<TrainingItem> items, double[] score, bool[] ruleHits, double limit)
    {
        var neg = Enumerable.Range(0, items.Count).Where(i => !items[i].Positive).ToList();
        int allowed = (int)Math.Floor(limit * neg.Count);
        var modelOnly = neg.Where(i => !ruleHits[i]).Select(i => score[i]).OrderByDescending(s => s).ToList();
        // Flag scores strictly above the (allowed+1)-th highest negative score.
        double t = allowed < modelOnly.Count ? modelOnly[allowed] : 0.0;
        return Math.Min(0.999, Math.Max(0.01, t + 1e-6));
    }

    private static (double Recall, double FalseAlarms) Rates(IReadOnlyList<TrainingItem> items, double[] score, bool[] ruleHits, double t)
    {
        int tp = 0, p = 0, fp = 0, n = 0;
        for (int i = 0; i < items.Count; i++)
        {
            bool flag = ruleHits[i] || score[i] >= t;
            if (items[i].Positive) { p++; if (flag) tp++; } else { n++; if (flag) fp++; }
        }
        return ((double)tp / Math.Max(1, p), (double)fp / Math.Max(1, n));
    }

    public static string Sha256(IEnumerable<string> files)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var f in files) h.AppendData(File.ReadAllBytes(f));
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }
}
