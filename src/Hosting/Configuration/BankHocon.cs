using Akka.Configuration;
using Akka.Hosting;

namespace Bank.Hosting.Configuration;

/// <summary>The HOCON defaults in hocon/, loaded by every node. Code and command-line options override them.</summary>
public static class BankHocon
{
    /// <summary>Files in load order; a later file wins over an earlier one.</summary>
    private static readonly string[] Files = ["akka.hocon", "cluster.hocon", "sharding.hocon", "persistence.hocon", "bank.hocon", "lease.hocon"];

    private static readonly Lazy<Config> Loaded = new(Load);

    public static Config Defaults => Loaded.Value;

    /// <summary>The folder holding the .hocon files: beside the executable, where the build copies them.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "hocon");

    private static Config Load()
    {
        var config = Config.Empty;
        foreach (var file in Files)
        {
            var path = Path.Combine(Directory, file);
            if (!File.Exists(path))
                throw new FileNotFoundException($"HOCON defaults not found at {path}; the build copies hocon/ beside the executable", path);
            config = ConfigurationFactory.ParseString(File.ReadAllText(path)).WithFallback(config);
        }

        return config;
    }

    /// <summary>Adds the defaults ahead of the libraries' own reference configuration.</summary>
    public static AkkaConfigurationBuilder WithBankHocon(this AkkaConfigurationBuilder builder) =>
        builder.AddHocon(Defaults, HoconAddMode.Prepend);
}
