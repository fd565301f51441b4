using Bank.Domain;
using Bank.Hosting.Contracts;
using Bank.Hosting;
using Bank.Hosting.Client;

namespace Bank.Nodes.Cli;

/// <summary>The `bank` command line: picks the command, turns every failure into one line and an exit code.</summary>
public static class BankCli
{
    public const string Help = """
        bank: Ray-style stateful remote actors on an Akka.NET cluster.

        Nodes:
          bank demo [--data DIR] [--journal sqlite|postgres] [--connection STRING]
                the "Remote Actors" chapter's scripts, end to end, on an embedded one-node cluster; its journal is
                SQLite in DIR/bank.db (default ./data) or the PostgreSQL database of the connection string
          bank bench [--accounts 1000] [--ops 100] [--concurrency N] [--rate OPS_PER_S] [--state-store on|off]
                     [--data DIR] [--journal sqlite|postgres] [--connection STRING] [--address HOST:PORT] [--warmup 3] [--json]
                N accounts x M deposits on an embedded node, or on a running cluster through ClusterClient with
                --address: ops/s, p50/p95/p99, peak memory, verified balances, and how far the state store lagged
                (--state-store off: without its persistence workers; --rate: a fixed offered load)
          bank start --head [--port 4053] [--data DIR] [--journal sqlite|postgres] [--connection STRING]
                    [--dashboard-port 8265] [--dashboard-host 127.0.0.1] [--no-dashboard]
                the seed node of a cluster, until Ctrl+C or SIGTERM (it then leaves gracefully); it serves the web
                dashboard at http://127.0.0.1:8265
          bank start --address HOST:PORT [--port 0] --journal postgres --connection STRING
                a worker that joins the cluster of that seed; workers share the head's PostgreSQL journal
          both take [--resources cpu=N,gpu=N,memory=SIZE,NAME=N] (default: this machine's CPUs, the GPUs nvidia-smi
          lists, its memory; SIZE as 500MiB or 8GiB; roles cpu, gpu and memory follow), [--hostname 127.0.0.1] and
          [--allow-fault-injection], which lets `bank chaos` crash actors and kill
          the node (for tests and demos; refused otherwise)

        Accounts (reach the cluster at --address HOST:PORT, else $BANK_ADDRESS, else 127.0.0.1:4053):
          bank open NAME --balance B [--minimal M] [--key KEY] [--get-if-exists] [--max-restarts N] [--max-task-retries N]
                    [--num-cpus N] [--num-gpus N] [--memory SIZE] [--resources NAME=N,...]
                a named, detached Account actor (a one-shot command cannot own an actor that outlives it: it lives
                until `bank kill`); the same --key restores that account's state; --get-if-exists returns the live
                actor of that name instead of failing. As in Ray, --max-restarts (default 0, -1 unlimited) restarts it
                after a crash, with exponential backoff, before it is DEAD (MAX_RESTARTS_EXCEEDED); --max-task-retries
                (default 0, -1 unlimited; needs restarts) resends a call that was in flight during a crash.
                Ray's num_cpus, num_gpus, memory and resources: an actor that asks for any holds them (with
                num_cpus=1 unless given) on a node that has them free, for as long as it lives; --resources takes
                custom ones only (accelerator_x=1). While no node fits it is PENDING_CREATION; after
                bank.resources.pending-timeout (30 s) the open fails with CREATION_FAILED
          bank balance NAME | bank deposit NAME AMOUNT | bank withdraw NAME AMOUNT
          bank balance NAME --from-store
                the balance in the state store (kept from the journal by the persistence workers, up to about a second
                behind): read from the database, the account is not woken; `-` while the store has none for it yet
          bank get NAME          prints Actor(Account, <id of this incarnation>)
          bank kill NAME         stops it: the name is freed, the journal kept
          bank list              every actor: name, state, node, restarts, resources, detached, balance, death cause;
                                 balances come from the state store (no account is woken), with its lag if it has one
          bank history NAME      the account's events, oldest first
          bank transfer FROM TO AMOUNT [--id ID]
                moves money exactly once (a saga: withdraw, deposit, refund if TO refuses); rule texts as for withdraw;
                the same --id again (say, after a timeout) returns the first outcome and moves nothing more

        Inspection (like Petabridge.Cmd, through the same gateway; --address as above):
          bank status                         each node: roles, actors, actors placed with resources, each resource
                                              used/total (like `ray status`); actors pending for want of resources
          bank cluster show                   members: address, status, roles, reachability, leader, oldest, up since
          bank cluster leave ADDRESS          that member leaves gracefully
          bank cluster down ADDRESS           that member is downed (for one that is gone for good)
          bank cluster down-unreachable       every unreachable member is downed
          bank cluster tail                   membership events as they happen, until Ctrl+C
          bank actor hierarchy [PATH] [--depth N] [--node ADDRESS]
                                              a node's actors under PATH (default /user) as an indented tree
          bank shards [--type account|transfer] [--entities]
                                              per node, shard regions with shard and entity counts (and entity ids)

        Fault injection (nodes started with --allow-fault-injection):
          bank chaos crash NAME [--times N]   the actor throws on its next N calls (default 1)
          bank chaos kill-node ADDRESS        that node's process dies at once, like kill -9

        Every command takes --json and then prints exactly one JSON object on stdout (errors too).
          bank --help | bank --version

        Exit codes: 0 ok, 1 rule violation or actor error, 2 usage error, 3 no such actor, 4 cluster unreachable,
        130 interrupted (Ctrl+C or SIGTERM).
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var output = new Output(stdout, stderr, args.Contains("--json"));
        var words = args.Where(a => a != "--json").ToList();
        try
        {
            if (words.Count == 0)
                throw new UsageException("no command given; run 'bank --help'");

            var rest = words.Skip(1).ToList();
            return words[0] switch
            {
                "--help" or "-h" or "help" => Print(stdout, Help),
                "--version" => Print(stdout, typeof(BankCli).Assembly.GetName().Version?.ToString(3) ?? "0.0.0"),
                "demo" => await new DemoCommand(stdout).RunAsync(rest),
                "bench" => await new BenchCommand(output).RunAsync(rest),
                "start" => await new StartCommand(output).RunAsync(rest),
                var command when ClientCommands.Usages.ContainsKey(command) => await new ClientCommands(output).RunAsync(command, rest),
                var command when InspectionCommands.Usages.ContainsKey(command) => await new InspectionCommands(output).RunAsync(command, rest),
                var unknown => throw new UsageException($"unknown command '{TextEcho.OneLine(unknown)}'; run 'bank --help'"),
            };
        }
        catch (UsageException usage)
        {
            return output.Error(ErrorKind.Usage, usage.Message, ExitCodes.Usage);
        }
        catch (BankException stopping) when (stopping.Code == "ShuttingDown")
        {
            // The node was asked to stop (Ctrl+C, SIGTERM) while the command used it.
            return output.Error(ErrorKind.ClusterUnreachable, "interrupted; the node left the cluster", ExitCodes.Interrupted);
        }
        catch (BankException bank)
        {
            return output.Error(bank.Kind, OneLine(bank.Message), bank.Kind switch
            {
                ErrorKind.Usage => ExitCodes.Usage,
                ErrorKind.ActorNotFound => ExitCodes.NotFound,
                ErrorKind.ClusterUnreachable => ExitCodes.Unreachable,
                _ => ExitCodes.Failure,
            });
        }
        catch (OperationCanceledException)
        {
            return output.Error(ErrorKind.ActorDied, "interrupted; the node left the cluster", ExitCodes.Interrupted);
        }
        catch (JournalUnavailableException journal)
        {
            return output.Error(ErrorKind.ClusterUnreachable, OneLine(journal.Message), ExitCodes.Failure);
        }
        catch (Exception unexpected)
        {
            // No stack trace reaches a user; BANK_DEBUG=1 shows it to whoever investigates.
            var code = output.Error(ErrorKind.ActorDied, OneLine(unexpected.GetBaseException().Message), ExitCodes.Failure);
            if (Environment.GetEnvironmentVariable("BANK_DEBUG") == "1")
                stderr.WriteLine(unexpected);
            return code;
        }
    }

    private static int Print(TextWriter output, string text)
    {
        output.WriteLine(text);
        return ExitCodes.Ok;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
