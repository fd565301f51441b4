using Bank.Domain;
using Xunit;

namespace Bank.Domain.Tests;

/// <summary>What a person typed is echoed in errors on one line and cut short, never split mid-character.</summary>
public sealed class TextEchoSpecs
{
    [Theory]
    [InlineData("1\n2", "1?2")]
    [InlineData("1\r\n2", "1??2")]
    [InlineData("1\u20282", "1?2")]
    [InlineData("1\u20292", "1?2")]
    [InlineData("a\0b", "a?b")]
    public void Line_breaks_and_control_characters_become_question_marks(string typed, string echoed) =>
        Assert.Equal(echoed, TextEcho.OneLine(typed));

    [Fact]
    public void Short_text_is_echoed_as_typed() => Assert.Equal("Account", TextEcho.OneLine("Account"));

    [Fact]
    public void Long_text_is_cut_at_40_characters_with_an_ellipsis()
    {
        var echoed = TextEcho.OneLine(new string('x', 10_000));

        Assert.Equal(new string('x', 40) + "…", echoed);
    }

    [Fact]
    public void A_cut_never_splits_a_surrogate_pair()
    {
        var echoed = TextEcho.OneLine(new string('x', 39) + "😀" + "tail");

        Assert.Equal(new string('x', 39) + "…", echoed);
    }
}
