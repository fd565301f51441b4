using Akka.Actor;
using Bank.Domain;
using Bank.Hosting.Contracts;

namespace Bank.Hosting.Registry;

/// <summary>`bank list` page by page, and the actor behind a name for `bank history`.</summary>
public sealed partial class NameRegistry
{
    private void ListingCommands()
    {
        Command<ListActors>(list => AnswerWhenDurable(Page(list)));
        Command<GetActor>(get => AnswerWhenDurable(Named(get) is { } found ? Shown(found) : Rejected.NotFound(get.Name)));
    }

    private ActorInfo? Named(GetActor get) =>
        _state.Find(get.Name) ?? (get.OrLatestDead
            ? PendingInfos().FirstOrDefault(p => p.Name == get.Name) ?? _state.Dead.LastOrDefault(d => d.Name == get.Name)
            : null);

    /// <summary>
    /// The page after the asked name (and incarnation), sorted by name. The sort is stable, so one name's entries keep
    /// their order: the open under way, the live actor, the dead oldest first.
    /// </summary>
    private ActorList Page(ListActors list)
    {
        IEnumerable<ActorInfo> all = [.. PendingInfos(), .. _state.All()];
        var sorted = all.Where(a => list.After is null || string.CompareOrdinal(a.Name, list.After) >= 0)
            .OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
        var start = 0;
        if (list.After is not null)
        {
            var ofName = sorted.TakeWhile(a => a.Name == list.After).ToList();
            // An incarnation no longer listed (dropped from the dead kept): that name again from its start, rather than skip some.
            start = list.AfterId is null ? ofName.Count : ofName.FindIndex(a => a.Id == list.AfterId) + 1;
        }

        var (page, more) = Pages.Take(sorted.Skip(start), Pages.Limit(list.Limit));
        if (!more) return new ActorList([.. page.Select(Shown)]);
        var last = page[^1];
        var splitsName = sorted[start + page.Count].Name == last.Name;
        return new ActorList([.. page.Select(Shown)], last.Name, splitsName ? last.Id : null);
    }
}
