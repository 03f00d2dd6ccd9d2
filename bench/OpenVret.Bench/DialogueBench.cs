using System.Diagnostics;
using OpenVret.Dialogue;
using OpenVret.Dialogue.Guardrails;
using OpenVret.Dialogue.Personas;
using OpenVret.Dialogue.Scripted;

/// <summary>
/// Scripted-engine response latency (patient turn in -> guarded agent line out, input screen and output guard
/// included) and crisis-screen cost per utterance. Target: scripted response under 5 ms.
/// </summary>
internal static class DialogueBench
{
    private sealed class Present : ITherapistPresence { public bool TherapistConnected => true; }

    private static readonly string[] Utterances =
    [
        "I studied biology at university and then worked in a lab for five years",
        "My greatest weakness is that I get nervous when presenting to large groups of people",
        "What would the salary be for this position?",
        "I worked in a team of eight people and we solved a difficult logistics problem together",
        "This talk is killing me but I'll keep going",
        "Honestly I'm not sure, could you repeat the question please?",
    ];

    public static void Run()
    {
        foreach (var mode in new[] { ScriptMode.SpeakingTime, ScriptMode.GlobalKeywords, ScriptMode.LocalKeywords })
        {
            var persona = Persona.BuiltIn("interviewer");
            var times = new List<double>();
            for (int rep = 0; rep < 2000; rep++)
            {
                var session = new DialogueSession(persona, new ScriptedEngine(persona.Script, mode), null, new Present(), null, 0.5);
                session.Start(0);
                for (int i = 0; i < Utterances.Length; i++)
                {
                    var sw = Stopwatch.StartNew();
                    _ = session.HearAsync(new PatientTurn(Utterances[i], 12, 1, i)).GetAwaiter().GetResult();
                    sw.Stop();
                    if (rep >= 100) times.Add(sw.Elapsed.TotalMilliseconds);
                }
            }
            times.Sort();
            Console.WriteLine($"scripted {mode,-15} turns={times.Count} median={times[times.Count / 2]:F3} ms p99={times[(int)(times.Count * 0.99)]:F3} ms max={times[^1]:F3} ms");
        }
        var screenTimes = new List<double>();
        for (int rep = 0; rep < 3000; rep++)
            foreach (var u in Utterances)
            {
                var sw = Stopwatch.StartNew();
                _ = CrisisScreen.Screen(u);
                sw.Stop();
                if (rep >= 100) screenTimes.Add(sw.Elapsed.TotalMilliseconds);
            }
        screenTimes.Sort();
        Console.WriteLine($"crisis screen per utterance: median={screenTimes[screenTimes.Count / 2]:F3} ms p99={screenTimes[(int)(screenTimes.Count * 0.99)]:F3} ms");
    }
}
