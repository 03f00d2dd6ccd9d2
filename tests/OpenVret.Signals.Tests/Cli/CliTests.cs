using System.Text.Json;
using OpenVret.Cli;
using OpenVret.Signals.Tests.Support;
using Xunit;

namespace OpenVret.Signals.Tests.Cli;

/// <summary>The <c>openvret</c> commands as a user runs them (console captured; not run in parallel).</summary>
[CollectionDefinition("console", DisableParallelization = true)]
public sealed class ConsoleCollection;

[Collection("console")]
public sealed class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter(); var e = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(o); Console.SetError(e);
        try { return (OpenVretCommand.Build().Parse(args).Invoke(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    private static string Fixture(string name, string content)
    {
        var p = Path.Combine(Directory.CreateTempSubdirectory("cli").FullName, name);
        File.WriteAllText(p, content);
        return p;
    }

    [OracleFact]
    public void SignalsEcgPrintsOneJsonObjectWithNeuroKitNames()
    {
        var (code, stdout, _) = Run("signals", "ecg", "--input", SharedData.OracleSignal("ecg_500hz_300s.csv"), "--rate", "500");
        Assert.Equal(0, code);
        var doc = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(350, doc.GetProperty("peaks").GetArrayLength());
        var f = doc.GetProperty("features");
        foreach (var name in new[] { "HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD", "HRV_pNN50", "HRV_LF", "HRV_HF", "HRV_LFHF", "HRV_SD1", "HRV_SD2", "HRV_SampEn" })
            Assert.Equal(JsonValueKind.Number, f.GetProperty(name).ValueKind);
        Assert.InRange(doc.GetProperty("rate").GetDouble(), 69, 71);
    }

    [OracleFact]
    public void SignalsWorksOnAMultiColumnFileWithColumnAndForEverySignalKind()
    {
        string file = SharedData.OracleSignal("nkdata_bio_eventrelated_100hz.csv");
        foreach (var (kind, column, key) in new[] { ("ecg", "ECG", "peaks"), ("eda", "EDA", "scr_peaks"), ("rsp", "RSP", "troughs") })
        {
            var (code, stdout, err) = Run("signals", kind, "--input", file, "--rate", "100", "--column", column);
            Assert.True(code == 0, err);
            Assert.True(JsonDocument.Parse(stdout).RootElement.GetProperty(key).GetArrayLength() > 0);
        }
        var ppg = Run("signals", "ppg", "--input", SharedData.OracleSignal("ppg_64hz_60s.csv"), "--rate", "64");
        Assert.Equal(0, ppg.Code);
        Assert.Equal(69, JsonDocument.Parse(ppg.Out).RootElement.GetProperty("peaks").GetArrayLength());
    }

    [Fact]
    public void BadInputGivesOneClearLineAndExitCode2()
    {
        var csv = Fixture("two.csv", "ECG,EDA\n1,2\n3,4\n");
        var cases = new (string[] Args, string Expect)[]
        {
            (new[] { "signals", "ecg", "--input", "/no/such.csv", "--rate", "250" }, "file not found"),
            (new[] { "signals", "ecg", "--input", csv, "--rate", "0" }, "sampleRate = 0"),
            (new[] { "signals", "eda", "--input", csv, "--rate", "4", "--column", "PPG" }, "column = PPG"),
            (new[] { "signals", "ecg", "--input", Fixture("bad.csv", "ECG\n1\nx\n"), "--rate", "250" }, "line 3:ECG = x"),
            (new[] { "signals", "ecg", "--input", csv, "--rate", "250", "--method", "magic" }, "method = magic"),
            (new[] { "signals", "ecg", "--input", csv, "--rate", "250" }, "ecg.length"),
            (new[] { "features", "--input", csv, "--out", Path.GetTempFileName() }, "rate"),
        };
        foreach (var (args, expect) in cases)
        {
            var (code, _, err) = Run(args);
            Assert.True(code == 2, $"{string.Join(' ', args)} -> exit {code}");
            Assert.StartsWith("error: ", err);
            Assert.Contains(expect, err);
            Assert.DoesNotContain("   at ", err); // no stack trace
        }
    }

    [SharedDataFact("wesad-e4", "data", "S10", "S10_E4_Data")]
    public void FeaturesWritesAWindowedTableOfAnE4Folder()
    {
        var output = Path.Combine(Directory.CreateTempSubdirectory("cli").FullName, "s10.csv");
        var (code, stdout, err) = Run("features", "--input", SharedData.Data("wesad-e4", "data", "S10", "S10_E4_Data"), "--window", "60", "--hop", "30", "--out", output);
        Assert.True(code == 0, err);
        Assert.Contains("TEMP: 4 implausible samples", err);
        var lines = File.ReadAllLines(output);
        var header = lines[0].Split(',');
        Assert.Contains("PPG.HRV_RMSSD", header);
        Assert.Contains("EDA.SCL_Mean", header);
        Assert.Contains("TEMP.TEMP_Mean", header);
        Assert.Contains("ACC.ACC_Motion", header);
        Assert.True(lines.Length > 100, $"{lines.Length} rows");
        Assert.Contains("windows", stdout);
    }

    [SharedDataFact("drivedb", "drive17b.hea")]
    public void FeaturesReadsWfdbAndEdfAlike()
    {
        var dir = Directory.CreateTempSubdirectory("cli").FullName;
        var fromWfdb = Path.Combine(dir, "w.csv");
        Assert.Equal(0, Run("features", "--input", SharedData.Data("drivedb", "drive17b.hea"), "--window", "60", "--hop", "60", "--out", fromWfdb).Code);
        // The same channels re-written as EDF+ give the same table, to EDF's 16-bit resolution.
        var rec = OpenVret.Signals.Readers.WfdbReader.Read(SharedData.Data("drivedb", "drive17b.hea"));
        var kept = rec with { Channels = rec.Channels.Where(c => c.Modality is Modality.Eda or Modality.Respiration).ToList() };
        var edf = Path.Combine(dir, "d.edf");
        OpenVret.Signals.Readers.Edf.Write(edf, kept, patientCode: "drive17b");
        var fromEdf = Path.Combine(dir, "e.csv");
        var r = Run("features", "--input", edf, "--window", "60", "--hop", "60", "--out", fromEdf);
        Assert.True(r.Code == 0, r.Err);
        var w = File.ReadAllLines(fromWfdb); var e = File.ReadAllLines(fromEdf);
        int wCol = Array.IndexOf(w[0].Split(','), "RSP.RSP_Rate_Mean"), eCol = Array.IndexOf(e[0].Split(','), "RSP.RSP_Rate_Mean");
        Assert.True(wCol >= 0 && eCol >= 0);
        for (int i = 1; i < Math.Min(w.Length, e.Length); i++)
        {
            var a = w[i].Split(',')[wCol]; var b = e[i].Split(',')[eCol];
            if (a.Length == 0 || b.Length == 0) { Assert.Equal(a.Length == 0, b.Length == 0); continue; }
            Assert.Equal(double.Parse(a, System.Globalization.CultureInfo.InvariantCulture), double.Parse(b, System.Globalization.CultureInfo.InvariantCulture), 1);
        }
    }
}
