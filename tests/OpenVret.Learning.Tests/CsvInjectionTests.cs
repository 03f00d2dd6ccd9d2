using OpenVret.Learning.Outcome;
using Xunit;

namespace OpenVret.Learning.Tests;

/// <summary>The outcome dataset opens in spreadsheets: text that would run as a formula is neutralised, numbers are left alone.</summary>
public sealed class CsvInjectionTests
{
    [Theory]
    [InlineData("=1+1", "\"'=1+1\"")]
    [InlineData("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")]
    [InlineData("+cmd", "\"'+cmd\"")]
    [InlineData("-2+3", "\"'-2+3\"")]
    [InlineData("@SUM(A1)", "\"'@SUM(A1)\"")]
    [InlineData("\tx", "\"'\tx\"")]
    [InlineData("\rx", "\"'\rx\"")]
    [InlineData("female", "female")]
    [InlineData("a,b", "\"a,b\"")]
    public void Text_cells_that_start_a_formula_are_quoted_and_prefixed(string value, string cell) =>
        Assert.Equal(cell, OutcomeSchema.Escape(value));

    [Fact]
    public void The_written_dataset_escapes_text_but_not_negative_numbers()
    {
        var record = new OutcomeRecord("P-1", "=site", new Dictionary<string, double> { ["age"] = 30, ["baseline_change"] = -4.5 },
            new Dictionary<string, string> { ["sex"] = "=1+1" }, new Dictionary<string, double> { ["post_severity"] = -1 });
        var w = new StringWriter();
        OutcomeSchema.Write(w, [record]);
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].TrimEnd('\r').Split(',');
        var row = lines[1].TrimEnd('\r');
        Assert.StartsWith("P-1,\"'=site\",\"'=1+1\",", row);
        Assert.Contains(",-4.5", row);
        Assert.EndsWith(",-1", row);
        Assert.Equal(header.Length, row.Split(',').Length);
    }
}
