using OpenVret.Dialogue.Guardrails;
using Xunit;
using Xunit.Abstractions;

namespace OpenVret.Dialogue.Tests;

public sealed class ScreenTests(ITestOutputHelper output)
{
    internal sealed record Labelled(bool Crisis, string Category, string Text);

    internal static List<Labelled> LoadSet(string file = "crisis-labelled.tsv")
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Data", file);
        return File.ReadLines(path)
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .Select(p => new Labelled(p[0] == "1", p[1], p[2]))
            .ToList();
    }

    public static readonly string[] Sets = ["crisis-labelled.tsv", "crisis-heldout.tsv", "crisis-heldout2.tsv", "crisis-heldout3.tsv", "crisis-heldout4.tsv"];

    private (int Tp, int Fn, int Fp, int Tn) Measure(IEnumerable<Labelled> set)
    {
        int tp = 0, fn = 0, fp = 0, tn = 0;
        foreach (var item in set)
        {
            var r = CrisisScreen.Screen(item.Text);
            if (item.Crisis && r.Crisis) tp++;
            else if (item.Crisis) { fn++; output.WriteLine($"MISSED: {item.Text}"); }
            else if (r.Crisis) { fp++; output.WriteLine($"FALSE ALARM ({r.Rule}: '{r.Evidence}'): {item.Text}"); }
            else tn++;
        }
        return (tp, fn, fp, tn);
    }

    /// <summary>
    /// The targets on all labelled utterances together (the development set of 394 plus three sets written later;
    /// each later set was measured once before any rule changed: docs/dialogue.md has those first figures).
    /// </summary>
    [Fact]
    public void Labelled_utterances_meet_recall_and_false_alarm_targets()
    {
        var all = new List<Labelled>();
        foreach (var file in Sets)
        {
            var set = LoadSet(file);
            var (tp, fn, fp, tn) = Measure(set);
            output.WriteLine($"{file}: n={set.Count} crisis={tp + fn} recall={(double)tp / (tp + fn):F3} false-alarm rate={(double)fp / (fp + tn):F3}");
            all.AddRange(set);
        }
        Assert.True(LoadSet(Sets[0]).Count >= 300, "the main labelled set needs at least 300 utterances");
        var (a, b, c, d) = Measure(all);
        double recall = (double)a / (a + b), falseAlarm = (double)c / (c + d);
        output.WriteLine($"all: n={all.Count} crisis={a + b} recall={recall:F3} false-alarm rate={falseAlarm:F3}");
        Assert.True(recall >= 0.98, $"crisis recall {recall:F3} < 0.98");
        Assert.True(falseAlarm <= 0.03, $"false-alarm rate {falseAlarm:F3} > 0.03");
    }

    [Fact]
    public void Crisis_categories_and_the_other_categories_are_named_correctly_for_most_of_the_set()
    {
        var set = LoadSet().Where(i => i.Category != "none").ToList();
        int right = 0;
        foreach (var item in set)
        {
            var r = CrisisScreen.Screen(item.Text);
            if (r.CategoryName == item.Category) right++;
            else output.WriteLine($"{item.Category} -> {r.CategoryName} ({r.Rule}): {item.Text}");
        }
        double accuracy = (double)right / set.Count;
        output.WriteLine($"category accuracy on {set.Count} flagged items: {accuracy:F3}");
        Assert.True(accuracy >= 0.9, $"category accuracy {accuracy:F3}");
    }
}
