using System.Globalization;
using System.IO.Compression;

namespace OpenVret.Server.Api;

/// <summary>An upload refused: <see cref="Field"/>, the value as the user sent it (never a server path) and the reason.</summary>
public sealed class UploadRefusedException(string field, string value, string problem) : Exception($"{field} = {value}: {problem}")
{
    public string Field { get; } = field;
    public string Value { get; } = value;
    public string Problem { get; } = problem;
}

/// <summary>
/// Unpacks a zipped recording without trusting it: entry names must stay inside the target folder (no absolute
/// paths, drive letters or '..'), at most <c>maxEntries</c> entries, and the bytes actually inflated (not the sizes the
/// archive declares) are counted while streaming, against the total limit and each entry's compression ratio.
/// A refusal stops at once; the caller deletes the folder.
/// </summary>
public static class UploadUnpacker
{
    private const long RatioGraceBytes = 1024 * 1024;

    public static void Unpack(Stream zip, string uploadName, string target, long maxTotalBytes, int maxEntries, double maxRatio)
    {
        using var archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
        if (archive.Entries.Count > maxEntries)
            throw new UploadRefusedException("file", uploadName, $"the zip holds {archive.Entries.Count} entries; at most {maxEntries} entries are accepted");
        string root = Path.GetFullPath(target) + Path.DirectorySeparatorChar;
        Directory.CreateDirectory(root);
        long total = 0;
        var buffer = new byte[81920];
        foreach (var entry in archive.Entries)
        {
            string name = entry.FullName;
            string shown = name.Length > 80 ? name[..80] + "..." : name;
            if (name.Length == 0 || name.Length > 260 || name.Contains('\0') || name.Contains(':') || name.StartsWith('/') || name.StartsWith('\\')
                || name.Replace('\\', '/').Split('/').Any(part => part == ".."))
                throw new UploadRefusedException("file", $"{uploadName}: {shown}", "a zip entry must be a relative path inside the archive (no absolute path, drive or '..')");
            string path = Path.GetFullPath(Path.Combine(root, name));
            if (!path.StartsWith(root, StringComparison.Ordinal))
                throw new UploadRefusedException("file", $"{uploadName}: {shown}", "a zip entry must be a relative path inside the archive (no absolute path, drive or '..')");
            // Two entries of one name, or a file and a folder of one name, are refused (the second cannot be unpacked beside the first).
            bool folder = name.EndsWith('/') || name.EndsWith('\\');
            string trimmed = path.TrimEnd(Path.DirectorySeparatorChar);
            if (File.Exists(trimmed) || (!folder && Directory.Exists(trimmed)))
                throw new UploadRefusedException("file", $"{uploadName}: {shown}", "the zip holds this name twice (two entries, or a file and a folder)");
            try
            {
                if (folder) { Directory.CreateDirectory(path); continue; }
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            }
            catch (IOException)
            {
                throw new UploadRefusedException("file", $"{uploadName}: {shown}", "a folder of this entry's path is a file in the zip (two entries share a name)");
            }
            long written = 0, compressed = Math.Max(entry.CompressedLength, 1);
            using (var input = entry.Open())
            using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                int n;
                while ((n = input.Read(buffer, 0, buffer.Length)) > 0)
                {
                    written += n; total += n;
                    if (total > maxTotalBytes)
                        throw new UploadRefusedException("file", uploadName, $"unpacked, the zip is larger than {Mib(maxTotalBytes)} (OpenVret:ReplayMaxUnpackedBytes); split the recording");
                    if (written > RatioGraceBytes && written > maxRatio * compressed)
                        throw new UploadRefusedException("file", $"{uploadName}: {shown}",
                            $"the entry inflates more than {maxRatio.ToString(CultureInfo.InvariantCulture)} times its compressed size (a zip bomb?); recordings compress far less");
                    output.Write(buffer, 0, n);
                }
            }
        }
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB";
}
