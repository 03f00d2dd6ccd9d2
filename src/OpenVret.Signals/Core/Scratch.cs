using System.Buffers;

namespace OpenVret.Signals;

/// <summary>
/// Temporary buffers: streaming-sized ones (up to 64k samples) come from the shared pool so a live hop
/// allocates nothing new; record-sized ones are allocated and left to the GC, because a pool would keep
/// hour-long arrays (16 MiB each) alive for the life of the process.
/// </summary>
internal static class Scratch
{
    private const int PoolLimit = 1 << 16;

    public static double[] Rent(int length) =>
        length <= PoolLimit ? ArrayPool<double>.Shared.Rent(length) : GC.AllocateUninitializedArray<double>(length);

    public static void Return(double[] buffer)
    {
        if (buffer.Length <= PoolLimit) ArrayPool<double>.Shared.Return(buffer);
    }
}
