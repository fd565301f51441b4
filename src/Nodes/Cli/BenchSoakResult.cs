using System.Globalization;
using System.Text.Json.Nodes;

namespace Bank.Nodes.Cli;

/// <summary>
/// A soak's outcome: what was offered and done, whether the money adds up (conserved: the balances' total is the
/// opening money plus the acknowledged deposits less the acknowledged withdrawals; verified: every balance is what
/// the acknowledged operations on it make it), and the memory samples with their growth after the first 10 minutes.
/// </summary>
internal sealed record SoakResult(SoakPlan Plan, TimeSpan LoadElapsed, long Ops, long Deposits, long Withdrawals, long Transfers,
    long Refused, long Resends, long Unresolved, IReadOnlyDictionary<string, long> Errors, long CrashesInjected, long Restarts,
    decimal MoneyExpected, decimal MoneyFound, int Mismatched, LatencyHistogram Latency, IReadOnlyList<MemorySample> Samples)
{
    public bool Conserved => MoneyExpected == MoneyFound;

    public bool BalancesVerified => Mismatched == 0;

    /// <summary>Passed: money conserved, every balance verified, and no operation left without a definite answer.</summary>
    public bool Passed => Conserved && BalancesVerified && Unresolved == 0;

    public double OpsPerSecond => Ops / Math.Max(LoadElapsed.TotalSeconds, 1e-6);

    public double? WorkingSetSlope => MemoryGrowth.SlopeMbPerHour(Samples, s => s.WorkingSetMb);

    public double? HeapSlope => MemoryGrowth.SlopeMbPerHour(Samples, s => s.HeapMb);

    public JsonObject Json(string where, string memoryOf)
    {
        var settled = MemoryGrowth.At(Samples, MemoryGrowth.SettledAfter);
        var last = Samples.Count > 0 ? Samples[^1] : null;
        return new JsonObject
        {
            ["soak"] = true,
            ["where"] = where,
            ["duration_s"] = Plan.Duration.TotalSeconds,
            ["rate_offered"] = Plan.Rate,
            ["ops_per_s"] = Math.Round(OpsPerSecond, 1),
            ["accounts"] = Plan.Accounts,
            ["ops"] = Ops,
            ["deposits"] = Deposits,
            ["withdrawals"] = Withdrawals,
            ["transfers"] = Transfers,
            ["refused"] = Refused,
            ["resends"] = Resends,
            ["unresolved"] = Unresolved,
            ["errors"] = new JsonObject(Errors.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value))),
            ["chaos"] = Plan.Chaos,
            ["crashes_injected"] = CrashesInjected,
            ["restarts"] = Restarts,
            ["money_expected"] = MoneyExpected,
            ["money_found"] = MoneyFound,
            ["conserved"] = Conserved,
            ["balances_verified"] = BalancesVerified,
            ["mismatched_accounts"] = Mismatched,
            ["p50_ms"] = Latency.Percentile(0.50),
            ["p99_ms"] = Latency.Percentile(0.99),
            ["p999_ms"] = Latency.Percentile(0.999),
            ["max_ms"] = Latency.Percentile(1.0),
            ["memory_of"] = memoryOf,
            ["samples"] = Samples.Count,
            ["working_set_mb_at_10_min"] = settled is null ? null : Math.Round(settled.WorkingSetMb, 1),
            ["gc_heap_mb_at_10_min"] = settled is null ? null : Math.Round(settled.HeapMb, 1),
            ["working_set_mb_at_end"] = last is null ? null : Math.Round(last.WorkingSetMb, 1),
            ["gc_heap_mb_at_end"] = last is null ? null : Math.Round(last.HeapMb, 1),
            ["working_set_growth_mb_per_h"] = WorkingSetSlope is { } ws ? Math.Round(ws, 2) : null,
            ["gc_heap_growth_mb_per_h"] = HeapSlope is { } heap ? Math.Round(heap, 2) : null,
            ["passed"] = Passed,
        };
    }

    /// <summary>The summary for people: the load, the money, then memory.</summary>
    public IEnumerable<string> Lines(string where, string memoryOf)
    {
        var c = CultureInfo.InvariantCulture;
        yield return string.Create(c,
            $"soak: {Ops} operations over {Plan.Accounts} accounts in {LoadElapsed.TotalMinutes:0.0} min, {where}: offered {Plan.Rate}/s, " +
            $"held {OpsPerSecond:0.0}/s; {Deposits} deposits, {Withdrawals} withdrawals, {Transfers} transfers, {Refused} refused by a rule, " +
            $"{Resends} resends, {Unresolved} unresolved{ErrorsText()}; p50 {Latency.Percentile(0.50)} ms, p99 {Latency.Percentile(0.99)} ms, " +
            $"p99.9 {Latency.Percentile(0.999)} ms");
        if (Plan.Chaos) yield return $"chaos: {CrashesInjected} crashes injected, {Restarts} restarts of the accounts";
        yield return string.Create(c, $"money: expected {MoneyExpected}, found {MoneyFound}: {(Conserved ? "conserved" : "NOT conserved")}; ") +
            (BalancesVerified ? $"all {Plan.Accounts} balances verified" : $"{Mismatched} of {Plan.Accounts} balances WRONG");
        var settled = MemoryGrowth.At(Samples, MemoryGrowth.SettledAfter);
        var last = Samples.Count > 0 ? Samples[^1] : null;
        yield return $"memory ({memoryOf}): {Samples.Count} samples; " +
            (settled is null
                ? "the run was shorter than 10 min"
                : string.Create(c, $"at 10 min working set {settled.WorkingSetMb:0.0} MB, GC heap {settled.HeapMb:0.0} MB")) +
            (last is null ? "" : string.Create(c, $"; at the end {last.WorkingSetMb:0.0} MB, GC heap {last.HeapMb:0.0} MB")) +
            (WorkingSetSlope is { } ws && HeapSlope is { } heap
                ? string.Create(c, $"; growth after 10 min: working set {ws:0.0} MB/h, GC heap {heap:0.0} MB/h")
                : "; growth after 10 min: not enough samples");
        yield return Passed ? "soak: passed" : "soak: FAILED";
    }

    private string ErrorsText() =>
        Errors.Count == 0 ? "" : ", errors " + string.Join(", ", Errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key} x{e.Value}"));
}
