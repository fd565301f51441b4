using Bank.Hosting.Contracts;
namespace Bank.Hosting.Accounts;

/// <summary>
/// `bank chaos crash`: the answers an account's supervisor gives to an <see cref="InjectCrash"/>. The countdown of
/// crashes itself is the supervision model's (<see cref="Bank.Domain.AccountSupervision{TCall}.CrashesToInject"/>).
/// </summary>
public static class FaultInjection
{
    public static CrashInjected Confirmed(string key, int times, string node) => new(key, times, node);

    public static Rejected Refused(string node) => new(ErrorKind.Usage, "FaultInjectionDisabled",
        $"fault injection is off on node {node}: start the nodes with --allow-fault-injection");
}
