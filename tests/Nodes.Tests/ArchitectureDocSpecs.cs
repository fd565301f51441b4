using System.Text.RegularExpressions;
using Xunit;

namespace Bank.Nodes.Tests;

/// <summary>docs/architecture.md is the next engineer's map: every code name it gives exists, and each room imports what it says.</summary>
public sealed partial class ArchitectureDocSpecs
{
    private static readonly string Document = File.ReadAllText(Repository.PathOf("docs", "architecture.md"));

    private static readonly string[] Sources = Directory
        .EnumerateFiles(Repository.PathOf("src"), "*.cs", SearchOption.AllDirectories)
        .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                       && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
        .ToArray();

    [Fact]
    public void Every_code_name_the_map_gives_exists_in_src()
    {
        var code = string.Join('\n', Sources.Select(File.ReadAllText));
        var names = CodeName().Matches(Document).Select(m => m.Groups["name"].Value).Distinct().ToList();
        Assert.True(names.Count > 40, $"found only {names.Count} code names in docs/architecture.md");
        var missing = names.Where(name => !Regex.IsMatch(code, $@"\b{Regex.Escape(name)}\b")).ToList();
        Assert.True(missing.Count == 0, $"docs/architecture.md names what src/ does not have: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Each_room_imports_what_the_map_says_and_nothing_more()
    {
        var rows = RoomRow().Matches(Document).ToDictionary(m => m.Groups["room"].Value, m => Listed(m.Groups["imports"].Value));
        var rooms = Directory.EnumerateDirectories(Repository.PathOf("src", "Hosting"))
            .Select(Path.GetFileName).Where(name => name is not ("bin" or "obj")).Select(name => name!).ToList();
        Assert.Equal(rooms.Order(), rows.Keys.Order());
        foreach (var room in rooms)
        {
            var imports = Sources.Where(path => Path.GetDirectoryName(path) == Repository.PathOf("src", "Hosting", room))
                .SelectMany(path => Using().Matches(File.ReadAllText(path)).Select(m => m.Groups["room"].Value))
                .Where(name => name != room).ToHashSet();
            Assert.True(imports.SetEquals(rows[room]),
                $"room {room} imports [{string.Join(", ", imports.Order())}]; docs/architecture.md says [{string.Join(", ", rows[room].Order())}]");
        }
    }

    private static HashSet<string> Listed(string cell) =>
        cell.Trim() == "(none)" ? [] : cell.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();

    /// <summary>A name in backticks that reads as C#: a type, member or extension (`AccountSupervisor`, `WithAccounts`).</summary>
    [GeneratedRegex(@"`(?<name>[A-Z][A-Za-z0-9]+)`")]
    private static partial Regex CodeName();

    [GeneratedRegex(@"^\| `(?<room>[A-Za-z]+)` \|.*\| (?<imports>[^|]+) \|$", RegexOptions.Multiline)]
    private static partial Regex RoomRow();

    [GeneratedRegex(@"^using Bank\.(?:Hosting\.)?(?<room>[A-Za-z]+);", RegexOptions.Multiline)]
    private static partial Regex Using();
}
