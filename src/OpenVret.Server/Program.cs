using OpenVret.Server;

// The session server: `dotnet run --project src/OpenVret.Server` (see README). Configuration: appsettings.json,
// environment variables OpenVret__<Option>, or --OpenVret:<Option>=value on the command line.
var app = ServerApp.Build(args);
app.Run();

public partial class Program;
