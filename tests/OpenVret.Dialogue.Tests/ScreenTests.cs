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

    [Theory]
    [InlineData("crisis-labelled.tsv", 300)]
    [InlineData("crisis-heldout.tsv", 40)]
    [InlineData("crisis-heldout2.tsv", 100)]
    public void Labelled_sets_meet_recall_and_false_alarm_targets(string file, int minimum)
    {
        var set = LoadSet(file);
        Assert.True(set.Count >= minimum, $"{file} has {set.Count} utterances; at least {minimum} are required");
        int tp = 0, fn = 0, fp = 0, tn = 0;
        foreach (var item in set)
        {
            var r = CrisisScreen.Screen(item.Text);
            if (item.Crisis && r.Crisis) tp++;
            else if (item.Crisis) { fn++; output.WriteLine($"MISSED: {item.Text}"); }
            else if (r.Crisis) { fp++; output.WriteLine($"FALSE ALARM ({r.Rule}: '{r.Evidence}'): {item.Text}"); }
            else tn++;
        }
        double recall = (double)tp / (tp + fn), falseAlarm = (double)fp / (fp + tn);
        output.WriteLine($"n={set.Count} crisis={tp + fn} recall={recall:F3} false-alarm rate={falseAlarm:F3}");
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
