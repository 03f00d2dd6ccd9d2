namespace OpenVret.Cli; public static class Program { public static int Main(string[] a) => 0; }
