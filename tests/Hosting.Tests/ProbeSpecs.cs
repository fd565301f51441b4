using Bank.Hosting.Tests.Support;
using Xunit;
namespace Bank.Hosting.Tests;
public class ProbeSpecs(BankNodeFixture f) : BankNodeSpec<BankNodeFixture>(f)
{
    [Fact] public void A() { Assert.NotNull(Accounts); }
    [Fact] public void B() { }
}
