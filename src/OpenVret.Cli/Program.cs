using System.CommandLine;
using OpenVret.Cli;

return OpenVretCommand.Build().Parse(args).Invoke();

namespace OpenVret.Cli
{
    /// <summary>The <c>openvret</c> command tree; each feature adds its subcommand here.</summary>
    public static class OpenVretCommand
    {
        public static RootCommand Build()
        {
            var root = new RootCommand("OpenVRET: adaptive, explainable, safe virtual-reality exposure therapy");
            root.Subcommands.Add(SignalsCommand.Create());
            root.Subcommands.Add(FeaturesCommand.Create());
            root.Subcommands.Add(SessionCommand.Create());
            root.Subcommands.Add(TrialCommand.Create());
            root.Subcommands.Add(TrialCommand.CreateDataset());
            root.Subcommands.Add(TrialCommand.CreateSensitivity());
            root.Subcommands.Add(TrainCommand.Create());
            root.Subcommands.Add(EvaluateCommand.Create());
            root.Subcommands.Add(ServerCommands.Serve());
            root.Subcommands.Add(ServerCommands.Audit());
            root.Subcommands.Add(SimulateLiveCommand.Create());
            root.Subcommands.Add(DeviceReplayCommand.Create());
            root.Subcommands.Add(DialogueCommand.Create());
            root.Subcommands.Add(OutcomeCommand.Create());
            return root;
        }
    }
}
