namespace Bank.Domain.Tests;

/// <summary>
/// Seeded journals of every account event, for the replay's equivalence specs: ids new and repeated, with and without
/// a transfer prefix or none at all, releases of held and unknown ids, restarts, closes, reopens and fresh opens.
/// </summary>
internal static class GeneratedJournals
{
    public static List<IAccountEvent> Generate(int seed, int length)
    {
        var random = new Random(seed);
        var journal = new List<IAccountEvent> { Opened(random, 1) };
        var balance = 100m;
        var ids = new List<string>();
        var incarnations = 1;
        while (journal.Count < length)
        {
            var roll = random.Next(100);
            var amount = random.Next(1, 50);
            switch (roll)
            {
                case < 40:
                    balance += amount;
                    journal.Add(new Deposited(amount, balance, NextId(random, ids)));
                    break;
                case < 70:
                    balance -= amount;
                    journal.Add(new Withdrawn(amount, balance, NextId(random, ids)));
                    break;
                case < 78:
                    var released = ids.Where(_ => random.Next(3) == 0).Append("transfer:never-held").ToList();
                    journal.Add(new RequestsReleased(released));
                    break;
                case < 84:
                    journal.Add(new AccountRestarted(random.Next(1, 5), "crash"));
                    break;
                case < 92:
                    journal.Add(new AccountClosed("killed", balance));
                    if (random.Next(4) > 0) journal.Add(new AccountReopened($"incarnation-{++incarnations}", balance, 1, 1));
                    break;
                case < 95:
                    balance = random.Next(0, 100);
                    journal.Add(Opened(random, ++incarnations) with { Balance = balance });
                    break;
                default:
                    journal.Add(new AccountReopened($"incarnation-{++incarnations}", balance, random.Next(3), 0,
                        new Dictionary<string, decimal> { ["cpu"] = 1m }));
                    break;
            }
        }

        return journal;
    }

    private static AccountOpened Opened(Random random, int incarnation) =>
        new(100m, 0m, $"incarnation-{incarnation}", random.Next(3), 0);

    /// <summary>Mostly a new id; sometimes none, a repeated one, or a transfer step's (held until released).</summary>
    private static string? NextId(Random random, List<string> ids)
    {
        var roll = random.Next(10);
        if (roll == 0) return null;
        if (roll == 1 && ids.Count > 0) return ids[random.Next(ids.Count)];
        var id = roll < 4 ? $"transfer:t{ids.Count}:withdraw" : $"client:r{ids.Count}";
        ids.Add(id);
        return id;
    }
}
