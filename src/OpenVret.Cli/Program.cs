using System.CommandLine;
using OpenVret.Cli;

var root = new RootCommand("OpenVRET: adaptive, explainable, safe virtual-reality exposure therapy");
root.Subcommands.Add(SignalsCommand.Create());
root.Subcommands.Add(FeaturesCommand.Create());
return root.Parse(args).Invoke();
