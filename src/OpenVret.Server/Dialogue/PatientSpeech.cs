using OpenVret.Server.Sessions;

namespace OpenVret.Server.Dialogue;

/// <summary>
/// The patient lines of the sessions' transcripts as they reach this node, for the virtual humans running here.
/// A session's transcript goes to every node with a client of the session (one node in single mode; in a cluster
/// each subscribed node), so an agent hears the patient wherever the patient's device is connected.
/// </summary>
public sealed class PatientSpeech
{
    public event Action<string, TranscriptItem>? Heard;

    /// <summary>Called by the node's sink for each transcript line it delivers; only patient lines are passed on.</summary>
    public void Delivered(string sessionId, TranscriptItem line)
    {
        if (line.Speaker == "patient") Heard?.Invoke(sessionId, line);
    }
}
