using Akka.Configuration;
using Akka.Hosting;

namespace Bank.Hosting.Configuration;

/// <summary>The HOCON defaults in hocon/, loaded by every node. appsettings, the environment, code and flags override them.</summary>
public static class BankHocon
{
    /// <summary>Files in load order; a later file wins over an earlier one.</summary>
    private static readonly string[] Files = ["akka.hocon", "cluster.hocon", "sharding.hocon", "persistence.hocon", "bootstrap.hocon", "bank.hocon", "lease.hocon"];

    private static readonly Lazy<IReadOnlyList<(string File, Config Config)>> Loaded = new(Load);

    /// <summary>The hocon/ files alone: what a node runs with when nothing overrides them (<see cref="BankConfiguration"/> does).</summary>
    public static Config Defaults => Merged.Value;

    private static readonly Lazy<Config> Merged = new(() => Layers.Reverse().Aggregate(Config.Empty, (config, layer) => config.WithFallback(layer.Config)));

    /// <summary>Each file's own settings, in load order, for telling where a value comes from.</summary>
    public static IReadOnlyList<(string File, Config Config)> Layers => Loaded.Value;

    /// <summary>The folder holding the .hocon files: beside the executable, where the build (and the tool package) puts them.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "hocon");

    private static IReadOnlyList<(string, Config)> Load()
    {
        var layers = new List<(string, Config)>();
        foreach (var file in Files)
        {
            var path = Path.Combine(Directory, file);
            if (!File.Exists(path))
                throw new FileNotFoundException($"HOCON defaults not found at {path}; the build copies hocon/ beside the executable", path);
            layers.Add(("hocon/" + file, ConfigurationFactory.ParseString(File.ReadAllText(path))));
        }

        return layers;
    }

    /// <summary>
    /// Adds the node's settings (hocon/ with appsettings and BANK__/AKKA__ variables over it: <see cref="BankConfiguration"/>)
    /// ahead of the libraries' own reference configuration.
    /// </summary>
    public static AkkaConfigurationBuilder WithBankHocon(this AkkaConfigurationBuilder builder) =>
        builder.AddHocon(BankConfiguration.Current.Config, HoconAddMode.Prepend);

    /// <summary>
    /// The configuration a node composed so far (after <see cref="WithBankHocon"/>, with what code prepended over it), for
    /// the settings that must be known while it is composed (shard counts, the journal's tunables).
    /// </summary>
    public static Config NodeConfig(this AkkaConfigurationBuilder builder) =>
        builder.Configuration.HasValue ? builder.Configuration.Value.WithFallback(BankConfiguration.Current.Config) : BankConfiguration.Current.Config;
}
