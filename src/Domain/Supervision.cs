namespace Bank.Domain;

/// <summary>
/// Ray's <c>max_restarts</c> and <c>max_task_retries</c> for one actor: how often it may be restarted after a crash,
/// and how often a call that was in flight during a crash is retried after the restart. -1 means unlimited.
/// </summary>
public sealed record Supervision(int MaxRestarts = 0, int MaxTaskRetries = 0)
{
    public const int Unlimited = -1;

    public static readonly Supervision Default = new();

    /// <summary>Ray's own wording for a retry budget without restarts.</summary>
    public const string RetriesNeedRestarts = "max_task_retries cannot be set if max_restarts is 0.";

    /// <summary>The reason these options cannot be used, or null when they can.</summary>
    public string? Validate() =>
        MaxRestarts < Unlimited ? $"max_restarts must be -1 (unlimited) or a number from 0, not {MaxRestarts}"
        : MaxTaskRetries < Unlimited ? $"max_task_retries must be -1 (unlimited) or a number from 0, not {MaxTaskRetries}"
        : MaxRestarts == 0 && MaxTaskRetries != 0 ? RetriesNeedRestarts
        : null;

    /// <summary>May the actor be restarted once more, having been restarted <paramref name="restarts"/> times?</summary>
    public bool AllowsRestart(int restarts) => MaxRestarts == Unlimited || restarts < MaxRestarts;

    /// <summary>May a call that has been retried <paramref name="retries"/> times be retried once more?</summary>
    public bool AllowsRetry(int retries) => MaxTaskRetries == Unlimited || retries < MaxTaskRetries;

    /// <summary>The budget as Ray prints it: a number, or "unlimited".</summary>
    public static string Describe(int limit) => limit == Unlimited ? "unlimited" : limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
