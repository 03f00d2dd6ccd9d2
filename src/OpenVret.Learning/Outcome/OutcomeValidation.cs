using System.Globalization;
using OpenVret.Learning.Evaluation;

namespace OpenVret.Learning.Outcome;

/// <summary>Named feature columns built from a dataset (numeric columns plus one-hot categories).</summary>
public sealed record FeatureSet(string Name, IReadOnlyList<string> Columns)
{
    public float[] Vector(OutcomeRecord r)
    {
        var x = new float[Columns.Count];
        for (int i = 0; i < x.Length; i++)
        {
            var c = Columns[i];
            int eq = c.IndexOf('=');
            if (eq > 0) x[i] = r.Categorical.TryGetValue(c[..eq], out var v) ? (v == c[(eq + 1)..] ? 1 : 0) : float.NaN;
            else if (c.StartsWith("trend_", StringComparison.Ordinal)) x[i] = (float)Trend(r, c["trend_".Length..]);
            else if (c.StartsWith("rcs", StringComparison.Ordinal) && c.Length > 4 && c[4] == '_')
                x[i] = r.Numeric.TryGetValue(c[5..], out var b) ? (float)Spline.Term(b, c[3] - '0') : float.NaN;
            else x[i] = r.Numeric.TryGetValue(c, out var d) ? (float)d : float.NaN;
        }
        return x;
    }

    /// <summary>Least-squares slope of s{k}_{name} over the sessions a trend covers (per session), NaN with fewer than 2 values.</summary>
    private double Trend(OutcomeRecord r, string name)
    {
        var pts = new List<(double K, double V)>();
        foreach (var (col, v) in r.Numeric)
        {
            var m = OutcomeSchema.SessionColumn.Match(col);
            if (!m.Success || m.Groups[2].Value != name) continue;
            int k = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            if (Columns.Contains(col)) pts.Add((k, v));
        }
        if (pts.Count < 2) return double.NaN;
        double mk = pts.Average(p => p.K), mv = pts.Average(p => p.V);
        double sxx = pts.Sum(p => (p.K - mk) * (p.K - mk));
        return sxx > 0 ? pts.Sum(p => (p.K - mk) * (p.V - mv)) / sxx : double.NaN;
    }
}

/// <summary>
/// Restricted (natural) cubic spline basis (Harrell 2015, Regression Modeling Strategies, §2.4.5): linear beyond the
/// outer knots; with four knots, two non-linear terms besides the linear one. Knots are fixed on the 0-100 severity
/// scale (the 5th, 35th, 65th and 95th percentiles of a uniform scale) so that a record's features never depend on
/// the training data.
/// </summary>
public static class Spline
{
    public static readonly double[] Knots = [5, 35, 65, 95];

    /// <summary>Non-linear term j (1 or 2) at x, scaled by (t_last - t_first)^2 as in Harrell's rcspline.eval.</summary>
    public static double Term(double x, int j)
    {
        var t = Knots;
        int k = t.Length;
        static double P(double v) => v > 0 ? v * v * v : 0;
        double tj = t[j - 1], tk1 = t[k - 2], tk = t[k - 1];
        double v = P(x - tj) - P(x - tk1) * (tk - tj) / (tk - tk1) + P(x - tk) * (tk1 - tj) / (tk - tk1);
        return v / ((tk - t[0]) * (tk - t[0]));
    }
}

public static class OutcomeFeatures
{
    /// <summary>Names of per-session variables that get a between-session trend when two or more sessions are used.</summary>
    public static readonly string[] TrendVariables = ["suds_peak", "hr_reactivity_bpm", "scl_reactivity_us", "expectancy_first", "violation_mean"];

    /// <summary>
    /// The clinical baseline: baseline severity scores and demographics only, with a restricted cubic spline on
    /// baseline severity (a response that is not linear in severity, e.g. floor and ceiling effects, is not forced
    /// into one slope). The L2 penalty of the logistic model is chosen by inner cross-validation (<see cref="OutcomeValidation.Candidates"/>).
    /// </summary>
    public static FeatureSet Clinical(IReadOnlyList<OutcomeRecord> data)
    {
        var numeric = data.SelectMany(r => r.Numeric.Keys).Distinct()
            .Where(c => c == "age" || c.StartsWith("baseline_", StringComparison.Ordinal) || c.StartsWith("demo_", StringComparison.Ordinal))
            .OrderBy(c => c, StringComparer.Ordinal).ToList();
        if (numeric.Contains("baseline_severity")) numeric.AddRange(["rcs1_baseline_severity", "rcs2_baseline_severity"]);
        var onehot = data.SelectMany(r => r.Categorical).Select(kv => $"{kv.Key}={kv.Value}").Distinct().OrderBy(c => c, StringComparer.Ordinal);
        return new FeatureSet("clinical", numeric.Concat(onehot).ToList());
    }

    /// <summary>The clinical columns plus physiology and session features of the first <paramref name="sessions"/> sessions, with between-session trends.</summary>
    public static FeatureSet Multimodal(IReadOnlyList<OutcomeRecord> data, int sessions)
    {
        var clinical = Clinical(data).Columns;
        var perSession = data.SelectMany(r => r.Numeric.Keys).Distinct()
            .Select(c => (c, m: OutcomeSchema.SessionColumn.Match(c)))
            .Where(x => x.m.Success && int.Parse(x.m.Groups[1].Value, CultureInfo.InvariantCulture) <= sessions)
            .OrderBy(x => int.Parse(x.m.Groups[1].Value, CultureInfo.InvariantCulture)).ThenBy(x => x.c, StringComparer.Ordinal).Select(x => x.c).ToList();
        if (perSession.Count == 0) throw new OutcomeDataException("s1_*", 1, "", $"no per-session columns for the first {sessions} session(s): the multimodal model needs them");
        var trends = sessions >= 2 ? TrendVariables.Where(v => perSession.Any(c => c.EndsWith("_" + v, StringComparison.Ordinal))).Select(v => "trend_" + v) : [];
        return new FeatureSet($"multimodal (first {sessions} sessions)", clinical.Concat(perSession).Concat(trends).ToList());
    }
}

public sealed record OutcomeOptions
{
    /// <summary>The binary outcome column to predict (responder, remitter).</summary>
    public string Outcome { get; init; } = "responder";
    /// <summary>Early prediction: session features from the first N sessions only.</summary>
    public int Sessions { get; init; } = 3;
    public int Repeats { get; init; } = 5;
    public int Folds { get; init; } = 5;
    public int BootstrapResamples { get; init; } = 2000;
    public int Seed { get; init; } = 1;
}

/// <summary>Net benefit of treating (here: flagging for closer attention) everyone above a threshold probability.</summary>
public sealed record DecisionPoint(double Threshold, double NetBenefit, double TreatAll);

public sealed record ModelEvaluation(string Name, ModelKind Kind, FeatureSet Features, BinaryMetrics Metrics, IReadOnlyList<Prediction> Predictions,
    IReadOnlyList<DecisionPoint> DecisionCurve, IReadOnlyDictionary<string, double> Importance, double? AurocSd);

/// <summary>A difference from the clinical baseline with its paired bootstrap 95 % interval and what it means in words.</summary>
public sealed record Comparison(string Model, string Metric, double Difference, double Low, double High, string Verdict);

/// <summary>Which sites/patients each outer fold trained on (the evidence that nothing of the test fold was used).</summary>
public sealed record OuterFold(string Test, IReadOnlyList<string> TrainingSites, int TrainingPatients, int TestPatients, bool Disjoint);

public sealed record ValidationResult(string Scheme, IReadOnlyList<ModelEvaluation> Models, IReadOnlyList<Comparison> Comparisons, IReadOnlyList<OuterFold> Folds,
    IReadOnlyList<Subgroup> Subgroups);

/// <summary>
/// Outcome prediction, validated honestly: a clinical baseline (logistic regression on baseline severity and
/// demographics) against multimodal models (gradient-boosted trees and regularised logistic regression adding
/// physiology and session features), by leave-one-site-out and by repeated nested cross-validation. Calibration
/// (Platt) and the decision threshold are fitted inside each training fold (by site, or by patient), never on
/// the test fold. The difference from the baseline gets a paired bootstrap interval over patients; when it
/// includes zero the verdict is "no added value". Training and scoring are the arousal classifier's code.
/// </summary>
public static class OutcomeValidation
{
    public const int MinimumPerClass = 8;

    public static IReadOnlyList<(string Name, ModelKind Kind, Func<IReadOnlyList<OutcomeRecord>, FeatureSet> Features)> Models(int sessions) =>
    [
        ("clinical baseline (logistic)", ModelKind.Logistic, OutcomeFeatures.Clinical),
        ("multimodal (gradient-boosted trees)", ModelKind.LightGbm, d => OutcomeFeatures.Multimodal(d, sessions)),
        ("multimodal (regularised logistic)", ModelKind.Logistic, d => OutcomeFeatures.Multimodal(d, sessions)),
    ];

    /// <summary>Rows with the outcome; the others are counted and left out.</summary>
    public static (List<OutcomeRecord> Usable, int Missing) Labelled(IReadOnlyList<OutcomeRecord> data, string outcome)
    {
        var usable = data.Where(r => r.Outcomes.ContainsKey(outcome)).ToList();
        int pos = usable.Count(r => r.Outcomes[outcome] == 1), neg = usable.Count - pos;
        if (pos < MinimumPerClass || neg < MinimumPerClass)
            throw new OutcomeDataException(outcome, 1, $"{pos} positive, {neg} negative", $"at least {MinimumPerClass} of each class are needed to train and validate");
        return (usable, data.Count - usable.Count);
    }

    /// <summary>A model fitted on a training set: the score model, Platt calibration and threshold from inner folds, and the feature means.</summary>
    public sealed record Fitted(ScoreModel Model, PlattScaling Platt, double Threshold, float[] Means, FeatureSet Features, ModelSettings? Settings = null)
    {
        public double Probability(float[] x) => Platt.Probability(Model.Score(x));
    }

    /// <summary>Fits on <paramref name="train"/>; calibration folds are the groups (sites, or patients when one site).</summary>
    public static Fitted Fit(IReadOnlyList<OutcomeRecord> train, FeatureSet features, ModelKind kind, string outcome, Func<OutcomeRecord, string> group, int innerFolds, int seed)
    {
        var rows = train.Select(r => (X: features.Vector(r), Y: r.Outcomes[outcome] == 1, G: group(r))).ToList();
        var groups = rows.Select(r => r.G).Distinct().OrderBy(g => g, StringComparer.Ordinal).ToList();
        if (groups.Count < 2)
        {
            // One group (e.g. one training site): calibrate on folds of patients instead.
            var shuffled = train.OrderBy(r => Hash(r.Patient, seed)).ToList();
            rows = shuffled.Select((r, i) => (features.Vector(r), r.Outcomes[outcome] == 1, $"f{i % innerFolds}")).ToList();
            groups = rows.Select(r => r.G).Distinct().ToList();
        }
        List<(float[], bool)> Rows(IEnumerable<string> ids)
        {
            var set = ids.ToHashSet(StringComparer.Ordinal);
            return rows.Where(r => set.Contains(r.G)).Select(r => (r.X, r.Y)).ToList();
        }
        // Model selection and calibration inside the training data, on inner folds by group: the test fold is never seen.
        var (platt, threshold, settings) = Loso.SelectAndCalibrate(groups, Rows, kind, Math.Min(innerFolds, groups.Count), seed, Candidates(kind));
        var all = rows.Select(r => (r.X, r.Y)).ToList();
        var means = Enumerable.Range(0, features.Columns.Count).Select(j =>
        {
            var v = all.Select(r => r.Item1[j]).Where(float.IsFinite).ToList();
            return v.Count > 0 ? v.Average() : 0f;
        }).ToArray();
        return new Fitted(ScoreModel.Train(all, kind, seed, settings), platt, threshold, means, features, settings);
    }

    /// <summary>The settings model selection tries: L2 strength for logistic models, boosting rounds for trees.</summary>
    public static IReadOnlyList<ModelSettings> Candidates(ModelKind kind) => kind == ModelKind.Logistic
        ? [new ModelSettings(L2: 0.1f), new ModelSettings(L2: 1f), new ModelSettings(L2: 10f)]
        : [new ModelSettings(Iterations: 50), new ModelSettings(Iterations: Training.Iterations)];

    private static int Hash(string s, int seed)
    {
        unchecked
        {
            int h = seed * 31 + 17;
            foreach (var ch in s) h = h * 31 + ch;
            return h;
        }
    }

    /// <summary>Leave-one-site-out: each site is predicted by models that never saw it (calibrated by site among the training sites).</summary>
    public static ValidationResult LeaveOneSiteOut(IReadOnlyList<OutcomeRecord> data, OutcomeOptions o)
    {
        var (usable, _) = Labelled(data, o.Outcome);
        var sites = usable.Select(r => r.Site).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
        if (sites.Count < 3) throw new OutcomeDataException("site", 1, string.Join(",", sites), $"leave-one-site-out needs at least 3 sites; the data have {sites.Count}");
        var evaluations = new List<ModelEvaluation>();
        var folds = new List<OuterFold>();
        foreach (var (name, kind, featuresOf) in Models(o.Sessions))
        {
            var features = featuresOf(usable);
            var predictions = new List<Prediction>();
            var importance = new PermutationImportance(features.Columns, o.Seed + 7);
            foreach (var site in sites)
            {
                var train = usable.Where(r => r.Site != site).ToList();
                var test = usable.Where(r => r.Site == site).ToList();
                var trainIds = train.Select(r => r.Patient).ToHashSet(StringComparer.Ordinal);
                bool disjoint = !test.Any(r => trainIds.Contains(r.Patient)) && train.All(r => r.Site != site);
                if (evaluations.Count == 0) folds.Add(new OuterFold(site, train.Select(r => r.Site).Distinct().OrderBy(s => s).ToList(), train.Count, test.Count, disjoint));
                if (!disjoint) throw new InvalidOperationException($"fold {site}: a test patient is in the training data");
                RequireBothClasses(train, o.Outcome, $"training sites without {site}");
                var fitted = Fit(train, features, kind, o.Outcome, r => r.Site, innerFolds: sites.Count - 1, o.Seed);
                var x = test.Select(features.Vector).ToList();
                var preds = test.Select((r, i) => { double p = fitted.Probability(x[i]); return new Prediction(r.Patient, r.Outcomes[o.Outcome] == 1, p, p >= fitted.Threshold); }).ToList();
                importance.AddFold(x, preds, fitted.Probability);
                predictions.AddRange(preds);
            }
            evaluations.Add(new ModelEvaluation(name, kind, features, BinaryMetrics.Of(predictions), predictions, DecisionCurve(predictions), importance.AurocDrop(predictions), null));
        }
        var siteOf = usable.ToDictionary(r => r.Patient, r => r.Site, StringComparer.Ordinal);
        return new ValidationResult("leave-one-site-out", evaluations, Compare(evaluations, o, p => siteOf[p]), folds, Subgroups.Of(evaluations[1].Predictions, Attributes(usable)));
    }

    /// <summary>
    /// Repeated nested cross-validation (stratified folds of patients, repeated with new splits): calibration and
    /// threshold on inner folds of the training patients. Metrics are pooled per repeat; the spread over repeats is reported.
    /// </summary>
    public static ValidationResult RepeatedNestedCv(IReadOnlyList<OutcomeRecord> data, OutcomeOptions o)
    {
        var (usable, _) = Labelled(data, o.Outcome);
        var evaluations = new List<ModelEvaluation>();
        var folds = new List<OuterFold>();
        var foldPredictions = new List<List<List<Prediction>>>();   // [model][repeat*folds + k]
        foreach (var (name, kind, featuresOf) in Models(o.Sessions))
        {
            var features = featuresOf(usable);
            var byFold = new List<List<Prediction>>();
            foldPredictions.Add(byFold);
            var perPatient = usable.ToDictionary(r => r.Patient, _ => new List<(double P, bool D)>(), StringComparer.Ordinal);
            var aurocs = new List<double>();
            for (int rep = 0; rep < o.Repeats; rep++)
            {
                var rng = new Random(o.Seed * 1000 + rep);
                // Stratified: positives and negatives are dealt to folds separately.
                var order = usable.OrderBy(r => r.Outcomes[o.Outcome]).ThenBy(_ => rng.Next()).ToList();
                var foldOf = order.Select((r, i) => (r.Patient, F: i % o.Folds)).ToDictionary(x => x.Patient, x => x.F, StringComparer.Ordinal);
                var repPreds = new List<Prediction>();
                for (int k = 0; k < o.Folds; k++)
                {
                    var train = usable.Where(r => foldOf[r.Patient] != k).ToList();
                    var test = usable.Where(r => foldOf[r.Patient] == k).ToList();
                    if (evaluations.Count == 0 && rep == 0) folds.Add(new OuterFold($"fold {k + 1}", train.Select(r => r.Site).Distinct().OrderBy(s => s).ToList(), train.Count, test.Count,
                        !test.Any(t => train.Any(r => r.Patient == t.Patient))));
                    RequireBothClasses(train, o.Outcome, $"repeat {rep + 1} fold {k + 1}");
                    var fitted = Fit(train, features, kind, o.Outcome, r => r.Patient, innerFolds: 4, o.Seed + rep);
                    var thisFold = new List<Prediction>();
                    byFold.Add(thisFold);
                    foreach (var r in test)
                    {
                        double p = fitted.Probability(features.Vector(r));
                        thisFold.Add(new Prediction(r.Patient, r.Outcomes[o.Outcome] == 1, p, p >= fitted.Threshold));
                        repPreds.Add(thisFold[^1]);
                        perPatient[r.Patient].Add((p, p >= fitted.Threshold));
                    }
                }
                aurocs.Add(BinaryMetrics.AurocOf(repPreds));
            }
            // Per patient: the mean probability over repeats, decision by majority.
            var pooled = usable.Select(r => new Prediction(r.Patient, r.Outcomes[o.Outcome] == 1, perPatient[r.Patient].Average(x => x.P),
                perPatient[r.Patient].Count(x => x.D) * 2 > perPatient[r.Patient].Count)).ToList();
            double mean = aurocs.Average(), sd = Math.Sqrt(aurocs.Sum(a => (a - mean) * (a - mean)) / Math.Max(1, aurocs.Count - 1));
            evaluations.Add(new ModelEvaluation(name, kind, features, BinaryMetrics.Of(pooled), pooled, DecisionCurve(pooled), new Dictionary<string, double>(), sd));
        }
        return new ValidationResult($"repeated nested cross-validation ({o.Repeats} x {o.Folds}-fold)", evaluations, CompareByFolds(evaluations, foldPredictions, o), folds,
            Subgroups.Of(evaluations[1].Predictions, Attributes(usable)));
    }

    private static void RequireBothClasses(IReadOnlyList<OutcomeRecord> train, string outcome, string where)
    {
        int pos = train.Count(r => r.Outcomes[outcome] == 1);
        if (pos < 2 || train.Count - pos < 2)
            throw new OutcomeDataException(outcome, 1, $"{pos} positive, {train.Count - pos} negative", $"{where}: too few of one class to train");
    }

    /// <summary>Site, sex and age band per patient, for the subgroup table.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Attributes(IReadOnlyList<OutcomeRecord> data) =>
        data.ToDictionary(r => r.Patient, r =>
        {
            var a = new Dictionary<string, string>(StringComparer.Ordinal) { ["site"] = r.Site };
            if (r.Categorical.TryGetValue("sex", out var sex)) a["sex"] = sex;
            if (r.Numeric.TryGetValue("age", out var age)) a["age"] = age < 40 ? "<40" : age < 60 ? "40-59" : "60+";
            return (IReadOnlyDictionary<string, string>)a;
        }, StringComparer.Ordinal);

    /// <summary>Net benefit at thresholds 0.05-0.60 (Vickers &amp; Elkin 2006) with the treat-all reference.</summary>
    public static List<DecisionPoint> DecisionCurve(IReadOnlyList<Prediction> p)
    {
        int n = p.Count;
        double prevalence = p.Count(x => x.Truth) / (double)n;
        var list = new List<DecisionPoint>();
        for (int i = 1; i <= 12; i++)
        {
            double t = i * 0.05, w = t / (1 - t);
            int tp = p.Count(x => x.Probability >= t && x.Truth), fp = p.Count(x => x.Probability >= t && !x.Truth);
            list.Add(new DecisionPoint(t, (double)tp / n - (double)fp / n * w, prevalence - (1 - prevalence) * w));
        }
        return list;
    }

    /// <summary>
    /// Repeated cross-validation: the difference per outer fold, and the corrected resampled t interval of Nadeau &amp;
    /// Bengio (2003), whose variance term (1/(k r) + n_test/n_train) accounts for the overlap of training sets
    /// between folds. A bootstrap of pooled cross-validated predictions would be too narrow.
    /// </summary>
    public static List<Comparison> CompareByFolds(IReadOnlyList<ModelEvaluation> models, IReadOnlyList<List<List<Prediction>>> folds, OutcomeOptions o)
    {
        var list = new List<Comparison>();
        var metrics = new (string Name, Func<IReadOnlyList<Prediction>, IReadOnlyList<Prediction>, double> Diff)[]
        {
            ("AUROC", (a, b) => BinaryMetrics.AurocOf(a) - BinaryMetrics.AurocOf(b)),
            ("Brier (lower is better; baseline minus model)", (a, b) => BinaryMetrics.Of(b).Brier - BinaryMetrics.Of(a).Brier),
            ("balanced accuracy", (a, b) => BinaryMetrics.Of(a).BalancedAccuracy - BinaryMetrics.Of(b).BalancedAccuracy),
        };
        int n = models[0].Predictions.Count;
        double testShare = 1.0 / o.Folds, ratio = testShare / (1 - testShare);
        for (int m = 1; m < models.Count; m++)
            foreach (var (metric, diff) in metrics)
            {
                var d = folds[m].Select((f, i) => diff(f, folds[0][i])).Where(double.IsFinite).ToArray();
                double mean = d.Average(), variance = d.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, d.Length - 1);
                double se = Math.Sqrt((1.0 / d.Length + ratio) * variance);
                double t = MathNet.Numerics.Distributions.StudentT.InvCDF(0, 1, Math.Max(1, d.Length - 1), 0.975);
                double lo = mean - t * se, hi = mean + t * se;
                list.Add(new Comparison(models[m].Name, metric, mean, lo, hi, Verdict(lo, hi)));
            }
        return list;
    }

    private static string Verdict(double lo, double hi) => lo > 0 ? "added value over the clinical baseline"
        : hi < 0 ? "worse than the clinical baseline"
        : "no added value over the clinical baseline (the interval includes zero)";

    /// <summary>
    /// Each multimodal model against the clinical baseline: AUROC, Brier and balanced-accuracy differences with a
    /// paired bootstrap 95 % interval. With <paramref name="cluster"/> (leave-one-site-out) the bootstrap is
    /// two-stage: sites are resampled, then patients within each drawn site, so that the interval carries the
    /// between-site variation (with few sites it is wide, as it should be).
    /// </summary>
    public static List<Comparison> Compare(IReadOnlyList<ModelEvaluation> models, OutcomeOptions o, Func<string, string>? cluster = null)
    {
        var baseline = models[0];
        var byPatient = baseline.Predictions.ToDictionary(p => p.Subject, StringComparer.Ordinal);
        var list = new List<Comparison>();
        foreach (var m in models.Skip(1))
        {
            var pairs = m.Predictions.Select(p => (Multi: p, Base: byPatient[p.Subject])).ToArray();
            var clusters = cluster is null ? [Enumerable.Range(0, pairs.Length).ToArray()]
                : pairs.Select((p, i) => (C: cluster(p.Multi.Subject), i)).GroupBy(x => x.C).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Select(x => x.i).ToArray()).ToArray();
            var metrics = new (string Name, Func<IReadOnlyList<Prediction>, IReadOnlyList<Prediction>, double> Diff)[]
            {
                ("AUROC", (a, b) => BinaryMetrics.AurocOf(a) - BinaryMetrics.AurocOf(b)),
                ("Brier (lower is better; baseline minus model)", (a, b) => BinaryMetrics.Of(b).Brier - BinaryMetrics.Of(a).Brier),
                ("balanced accuracy", (a, b) => BinaryMetrics.Of(a).BalancedAccuracy - BinaryMetrics.Of(b).BalancedAccuracy),
            };
            foreach (var (metric, diff) in metrics)
            {
                double observed = diff(pairs.Select(x => x.Multi).ToList(), pairs.Select(x => x.Base).ToList());
                var rng = new Random(o.Seed + 31);
                var samples = new List<double>(o.BootstrapResamples);
                for (int b = 0; b < o.BootstrapResamples; b++)
                {
                    var idx = new List<int>(pairs.Length);
                    for (int c = 0; c < clusters.Length; c++)
                    {
                        var members = clusters[cluster is null ? c : rng.Next(clusters.Length)];
                        for (int k = 0; k < members.Length; k++) idx.Add(members[rng.Next(members.Length)]);
                    }
                    double d = diff(idx.Select(i => pairs[i].Multi).ToList(), idx.Select(i => pairs[i].Base).ToList());
                    if (double.IsFinite(d)) samples.Add(d);
                }
                samples.Sort();
                double lo = samples[(int)(0.025 * (samples.Count - 1))], hi = samples[(int)(0.975 * (samples.Count - 1))];
                list.Add(new Comparison(m.Name, metric, observed, lo, hi, Verdict(lo, hi)));
            }
        }
        return list;
    }
}
