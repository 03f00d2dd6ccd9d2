namespace OpenVret.Server;

/// <summary>Configuration section "OpenVret" (appsettings.json, environment OPENVRET__..., or the command line).</summary>
public sealed class ServerOptions
{
    /// <summary>Folder for the embedded SQLite database and exports.</summary>
    public string DataFolder { get; set; } = "data";
    /// <summary>When set, PostgreSQL is used instead of SQLite (e.g. "Host=localhost;Database=openvret;Username=...;Password=...").</summary>
    public string? PostgresConnection { get; set; }
    /// <summary>Seed the demo therapist, patient and simulated device on an empty database.</summary>
    public bool Demo { get; set; } = true;
    /// <summary>Demo therapist password; when empty a random one is generated and printed once at first start.</summary>
    public string? DemoPassword { get; set; }
    public string DemoUser { get; set; } = "demo";
    /// <summary>
    /// First administrator, created on a database without users when both are set (from configuration or the
    /// environment, never from code): OpenVret__AdminUser, OpenVret__AdminPassword.
    /// </summary>
    public string? AdminUser { get; set; }
    public string? AdminPassword { get; set; }
    /// <summary>Baseline calibration length (s) for new sessions unless the request says otherwise.</summary>
    public double BaselineSeconds { get; set; } = OpenVret.Learning.WindowTable.DefaultBaselineSeconds;
    /// <summary>Path of the arousal model; default: the shipped WESAD wrist model next to the server.</summary>
    public string? ArousalModelPath { get; set; }
    /// <summary>Largest SignalR message (bytes) accepted from a client.</summary>
    public long MaxMessageBytes { get; set; } = 256 * 1024;
    /// <summary>Samples per second a device may send, summed over its channels (ingest rate limit).</summary>
    public double MaxSamplesPerSecondPerDevice { get; set; } = 20_000;
    /// <summary>Login attempts allowed per client address per minute (flood limit; the progressive delay below comes first).</summary>
    public int LoginAttemptsPerMinute { get; set; } = 20;
    /// <summary>Pairing attempts allowed per client address per minute (a bucket of its own: failed logins do not block pairing).</summary>
    public int PairingAttemptsPerMinute { get; set; } = 20;
    /// <summary>
    /// Progressive login delay (docs/security.md): failures allowed before a delay, per user name from one address,
    /// per address, and per user name from anywhere; the first delay, doubling with each further failure up to the caps.
    /// </summary>
    public int LoginFreeFailuresPerAccountAndAddress { get; set; } = 5;
    public int LoginFreeFailuresPerAddress { get; set; } = 20;
    public int LoginFreeFailuresPerAccount { get; set; } = 50;
    public double LoginDelayFirstSeconds { get; set; } = 5;
    public double LoginDelayCapSeconds { get; set; } = 900;
    public double LoginAccountDelayCapSeconds { get; set; } = 60;
    /// <summary>A login ends after this many minutes without a request, and after LoginAbsoluteHours in any case.</summary>
    public double LoginIdleMinutes { get; set; } = 120;
    public double LoginAbsoluteHours { get; set; } = 12;
    /// <summary>
    /// Browser origins, besides the server's own, allowed to make cookie-authenticated changes and to open the console
    /// hub (e.g. "https://vret.clinic.example" when a reverse proxy changes the scheme or host).
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];
    /// <summary>Pairing codes expire after this many minutes.</summary>
    public double PairingMinutes { get; set; } = 15;
    /// <summary>How often (ms) sessions tick: veto windows, sensor loss, the console's live view.</summary>
    public int TickMilliseconds { get; set; } = 250;
    /// <summary>Print a one-line summary of each live session to the log every this many seconds (0 = never).</summary>
    public double LiveLogSeconds { get; set; } = 10;
    /// <summary>
    /// "single" (default): one process, sessions in memory, SQLite or PostgreSQL. "cluster": the process is one
    /// node of an Orleans cluster whose membership and store are the PostgreSQL database in PostgresConnection;
    /// sessions are grains and devices and consoles may connect to any node (docs/cluster.md).
    /// </summary>
    public string Hosting { get; set; } = "single";
    public string ClusterId { get; set; } = "openvret";
    /// <summary>Cluster mode: this node's silo-to-silo port, client gateway port, and the address other nodes reach it at.</summary>
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    public string AdvertisedAddress { get; set; } = "127.0.0.1";
    public bool IsCluster => string.Equals(Hosting, "cluster", StringComparison.OrdinalIgnoreCase);
    /// <summary>
    /// OpenAI-compatible chat endpoint for LLM-driven virtual humans, ending in /v1 (a local llama.cpp or Ollama
    /// server, or a hosted one). Empty: agents are scripted only. The key comes from configuration
    /// (OpenVret__LlmApiKey), never from code.
    /// </summary>
    public string? LlmEndpoint { get; set; }
    /// <summary>Key (at least 16 characters, from configuration: OpenVret__ExportPseudonymKey) for the patient ids of pooled multi-site exports.</summary>
    public string? ExportPseudonymKey { get; set; }
    public string LlmModel { get; set; } = "local";
    public string? LlmApiKey { get; set; }
    /// <summary>A model reply slower than this is dropped and the script answers instead.</summary>
    public double LlmTimeoutSeconds { get; set; } = 6;
    /// <summary>
    /// Group commit: at least this many milliseconds between the starts of two store commits. Everything that
    /// arrives meanwhile is committed (and acknowledged) together, so a busy server makes fewer, larger
    /// commits (fewer syncs, each page written once); an idle one commits at once. 0 = commit as soon as possible.
    /// </summary>
    public double StoreCommitIntervalMs { get; set; } = 10;
    /// <summary>
    /// PostgreSQL connections per node unless the connection string sets "Maximum Pool Size". Requests beyond it
    /// wait for a free connection. Keep nodes x this below the server's max_connections (100 by default).
    /// </summary>
    public int PostgresMaxPoolSize { get; set; } = 30;
    /// <summary>Cluster mode: a recording replay whose driving node sends no step for this long ends as interrupted.</summary>
    public double ReplayDriverTimeoutSeconds { get; set; } = 30;
    /// <summary>SQLite page cache per connection (MiB). The sample index outgrows SQLite's 2 MiB default within minutes of a busy clinic.</summary>
    public int SqliteCacheMiB { get; set; } = 64;
    /// <summary>Where uploads (recordings for replay) are written and unpacked while a request runs; default: the system temp folder.</summary>
    public string? UploadFolder { get; set; }
    /// <summary>
    /// A zipped recording may unpack to at most this many bytes in total (default 512 MiB: about 17 times the largest
    /// upload Kestrel accepts, 30 MB, which is more than signal CSVs compress), hold at most this many entries, and no
    /// entry past its first MiB may inflate more than this ratio (zip bombs inflate by 1000 and more; signal CSVs by 3 to 20).
    /// </summary>
    public long ReplayMaxUnpackedBytes { get; set; } = 512L * 1024 * 1024;
    public int ReplayMaxEntries { get; set; } = 64;
    public double ReplayMaxCompressionRatio { get; set; } = 200;

    /// <summary>
    /// HMAC key of the audit chain's links (at least 32 characters, from configuration or the environment:
    /// OpenVret__AuditKey; never in the database). Every cluster node needs the same one. Unset: the key file.
    /// </summary>
    public string? AuditKey { get; set; }
    /// <summary>File holding the link key (base64 of at least 32 bytes); default AuditKeysFolder/audit-link.key, created at first start (mode 0600).</summary>
    public string? AuditKeyFile { get; set; }
    /// <summary>PEM ECDSA P-256 private key that signs checkpoints; default AuditKeysFolder/audit-signing.pem, created at first start (mode 0600), its public key beside it.</summary>
    public string? AuditSigningKeyFile { get; set; }
    /// <summary>Folder of the generated audit keys; default the data folder's keys/. Keep it out of reach of whoever administers the database.</summary>
    public string? AuditKeysFolder { get; set; }
    /// <summary>Folder of the signed audit checkpoints (one append-only file per node); default the data folder's audit-checkpoints/.</summary>
    public string? AuditCheckpointFolder { get; set; }
    /// <summary>Least time between two audit checkpoints (s); one is written this long at most after a commit that appended audit entries.</summary>
    public double AuditCheckpointSeconds { get; set; } = 1;

    /// <summary>Rejects store settings no deployment means, naming the option and the value given.</summary>
    public void ValidateStore()
    {
        if (!double.IsFinite(StoreCommitIntervalMs) || StoreCommitIntervalMs < 0 || StoreCommitIntervalMs > 1000)
            throw new InvalidOperationException($"OpenVret:StoreCommitIntervalMs = {StoreCommitIntervalMs}: use 0 to 1000 ms (acks wait for the commit)");
        if (PostgresMaxPoolSize < 2)
            throw new InvalidOperationException($"OpenVret:PostgresMaxPoolSize = {PostgresMaxPoolSize}: use at least 2 connections per node");
        if (!(AuditCheckpointSeconds >= 0 && AuditCheckpointSeconds <= 10))
            throw new InvalidOperationException($"OpenVret:AuditCheckpointSeconds = {AuditCheckpointSeconds}: use 0 to 10 s (verification expects a checkpoint within a minute of any entry)");
        if (SqliteCacheMiB < 2)
            throw new InvalidOperationException($"OpenVret:SqliteCacheMiB = {SqliteCacheMiB}: use at least 2 MiB");
        if (!(ReplayDriverTimeoutSeconds >= 1 && ReplayDriverTimeoutSeconds <= 3600))
            throw new InvalidOperationException($"OpenVret:ReplayDriverTimeoutSeconds = {ReplayDriverTimeoutSeconds}: use 1 to 3600 s");
    }

    /// <summary>Rejects login and browser settings no deployment means, naming the option and the value given.</summary>
    public void ValidateLogin()
    {
        if (!(LoginIdleMinutes > 0) || !(LoginAbsoluteHours > 0))
            throw new InvalidOperationException($"OpenVret:LoginIdleMinutes = {LoginIdleMinutes}, LoginAbsoluteHours = {LoginAbsoluteHours}: both must be positive");
        if (!(LoginDelayFirstSeconds > 0) || !(LoginDelayCapSeconds >= LoginDelayFirstSeconds) || !(LoginAccountDelayCapSeconds >= LoginDelayFirstSeconds))
            throw new InvalidOperationException($"OpenVret:LoginDelayFirstSeconds = {LoginDelayFirstSeconds}: must be positive and at most LoginDelayCapSeconds ({LoginDelayCapSeconds}) and LoginAccountDelayCapSeconds ({LoginAccountDelayCapSeconds})");
        foreach (var origin in AllowedOrigins)
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") || u.PathAndQuery != "/" || u.Fragment.Length > 0 || !string.IsNullOrEmpty(u.UserInfo))
                throw new InvalidOperationException($"OpenVret:AllowedOrigins = '{origin}': an origin is scheme://host[:port] with nothing after it");
    }
}
