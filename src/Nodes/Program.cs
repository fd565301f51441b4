using Bank.Nodes.Cli;

return await BankCli.RunAsync(args, Console.Out, Console.Error);
