using Akka.Event;
using Xunit;

namespace Bank.Hosting.Tests;

/// <summary>
/// A client process that ends or is killed leaves one INFO line on the node, not Akka's ERROR and WARNING with their
/// stack traces; a node's own disassociation is reported as Akka reports it.
/// (Akka's EndpointDisassociatedException is internal: a cause with its message stands in for it.)
/// </summary>
public sealed class ClientDisconnectLogSpecs
{
    private const string ClientWriter =
        "akka://bank/system/endpointManager/reliableEndpointWriter-akka.tcp%3A%2F%2Fbank-client%40127.0.0.1%3A44503-4/endpointWriter";

    [Fact]
    public void A_client_s_disassociation_error_becomes_one_info_line_naming_the_client()
    {
        var error = new Error(new InvalidOperationException("Disassociated"), ClientWriter, typeof(FilteringLoggerFactoryLogger), "Disassociated");

        var kept = FilteringLoggerFactoryLogger.ClientDisconnect(error);

        var info = Assert.IsType<Info>(kept);
        Assert.Null(info.Cause);
        Assert.Equal("Client akka.tcp://bank-client@127.0.0.1:44503 disconnected", info.Message);
    }

    [Fact]
    public void A_client_s_association_failure_warning_is_dropped()
    {
        var warning = new Warning(ClientWriter.Replace("/endpointWriter", "", StringComparison.Ordinal), typeof(FilteringLoggerFactoryLogger),
            "Association with remote system akka.tcp://bank-client@127.0.0.1:44503 has failed; address is now gated for 5000 ms. " +
            "Reason is: [Akka.Remote.EndpointDisassociatedException: Disassociated    at Akka.Remote.EndpointWriter.PublishAndThrow()]");

        Assert.Null(FilteringLoggerFactoryLogger.ClientDisconnect(warning));
    }

    [Fact]
    public void A_node_s_disassociation_is_left_as_it_is()
    {
        var error = new Error(new InvalidOperationException("Disassociated"),
            ClientWriter.Replace("bank-client", "bank", StringComparison.Ordinal), typeof(FilteringLoggerFactoryLogger), "Disassociated");

        Assert.Same(error, FilteringLoggerFactoryLogger.ClientDisconnect(error));
    }
}
