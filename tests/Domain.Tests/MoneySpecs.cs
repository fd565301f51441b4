using System.Globalization;
using Xunit;

namespace Bank.Domain.Tests;

public class MoneySpecs
{
    public static TheoryData<string, decimal> ValidAmounts => new()
    {
        { "10", 10m },
        { "10.5", 10.5m },
        { "-3", -3m },
        { "1e3", 1000m },
        { "1E3", 1000m },
        { " 7 ", 7m },
        { "+7", 7m },
        { "0", 0m },
        { "0.0001", 0.0001m },
        { ".5", 0.5m },
        { "9223372036854775808", Money.Limit },
        { "-9223372036854775808", -Money.Limit },
        { "0.12345678", 0.12345678m },
        { "1e-8", 0.00000001m },
        { "9223372036854775807.99999999", Money.Limit - 0.00000001m },
        { "1.000000000", 1m },
        { "2.50000000000000000000", 2.5m },
    };

    [Theory]
    [MemberData(nameof(ValidAmounts))]
    public void TryParse_accepts_a_plain_decimal_amount(string text, decimal expected)
    {
        var ok = Money.TryParse(text, out var amount, out var error);

        Assert.True(ok, error);
        Assert.Equal(expected, amount);
        Assert.Equal(string.Empty, error);
    }

    [Fact]
    public void TryParse_keeps_decimal_precision_that_a_double_would_lose()
    {
        Assert.True(Money.TryParse("0.1", out var tenth, out _));
        Assert.True(Money.TryParse("0.2", out var fifth, out _));

        Assert.Equal(0.3m, tenth + fifth);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n")]
    public void TryParse_rejects_empty_text(string? text)
    {
        var ok = Money.TryParse(text, out var amount, out var error);

        Assert.False(ok);
        Assert.Equal(0m, amount);
        Assert.Equal("Amount is empty", error);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("10abc")]
    [InlineData("1,000")]
    [InlineData("1.2.3")]
    [InlineData("--3")]
    [InlineData("0x10")]
    [InlineData("$5")]
    public void TryParse_rejects_text_that_is_no_number(string text)
    {
        var ok = Money.TryParse(text, out var amount, out var error);

        Assert.False(ok);
        Assert.Equal(0m, amount);
        Assert.Equal($"'{text}' is not a valid amount", error);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("nan")]
    public void TryParse_rejects_not_a_number(string text)
    {
        var ok = Money.TryParse(text, out _, out var error);

        Assert.False(ok);
        Assert.Equal($"'{text}' is not a finite amount", error);
    }

    [Theory]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("9223372036854775809")]
    [InlineData("-9223372036854775809")]
    [InlineData("9223372036854775808.5")]
    [InlineData("1e19")]
    [InlineData("79228162514264337593543950335")]
    [InlineData("79228162514264337593543950336")]
    [InlineData("-79228162514264337593543950336")]
    [InlineData("9223372036854775808.000000001")]
    public void TryParse_rejects_amounts_beyond_two_to_the_63_with_the_out_of_range_message(string text)
    {
        var ok = Money.TryParse(text, out _, out var error);

        Assert.False(ok);
        Assert.Equal(Money.OutOfRangeMessage, error);
    }

    public static TheoryData<string?> AnyRejectedText => new()
    {
        null, "", "   ", "abc", "NaN", "Infinity", "1e400", "9223372036854775809", "79228162514264337593543950336",
        new string('9', 10_000), "\u0000", "1\n2", "0.123456789",
    };

    [Theory]
    [MemberData(nameof(AnyRejectedText))]
    public void TryParse_never_throws_and_gives_a_one_line_error(string? text)
    {
        var ok = Money.TryParse(text, out _, out var error);

        Assert.False(ok);
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.DoesNotContain('\n', error);
        Assert.DoesNotContain('\r', error);
    }

    [Theory]
    [MemberData(nameof(AnyRejectedText))]
    public void TryParse_leaves_the_amount_zero_whenever_it_fails(string? text)
    {
        var ok = Money.TryParse(text, out var amount, out _);

        Assert.False(ok);
        Assert.Equal(0m, amount);
    }

    [Fact]
    public void TryParse_of_an_amount_just_beyond_two_to_the_63_leaves_the_amount_zero_not_the_parsed_value()
    {
        var ok = Money.TryParse("9223372036854775809", out var amount, out var error);

        Assert.False(ok);
        Assert.Equal(0m, amount);
        Assert.Equal(Money.OutOfRangeMessage, error);
    }

    [Theory]
    [InlineData("1\n2", "'1?2' is not a valid amount")]
    [InlineData("1\r\n2", "'1??2' is not a valid amount")]
    [InlineData("1\u00852", "'1?2' is not a valid amount")]
    [InlineData("a\tb", "'a?b' is not a valid amount")]
    [InlineData("\u0000", "'?' is not a valid amount")]
    public void TryParse_echoes_control_characters_as_question_marks_so_the_error_stays_on_one_line(
        string text, string expected)
    {
        var ok = Money.TryParse(text, out _, out var error);

        Assert.False(ok);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void TryParse_error_for_text_with_a_line_break_has_no_line_break()
    {
        Assert.False(Money.TryParse("1\n2", out _, out var error));

        Assert.DoesNotContain('\n', error);
        Assert.DoesNotContain('\r', error);
    }

    [Theory]
    [InlineData("0.123456789")]
    [InlineData("0.000000001")]
    [InlineData("-0.000000001")]
    [InlineData("1e-9")]
    [InlineData("10.000000001")]
    [InlineData("0.0000000000000000000000000001")]
    [InlineData("9223372036854775807.123456789")]
    // Places that decimal itself would round away before any check could see them:
    [InlineData("5.000000000000000000000000000004")]
    [InlineData("9223372036854775807.0000000001")]
    [InlineData("0.0000000000000000000000000000001")]
    [InlineData("1e-29")]
    [InlineData("-0.000000000000000000000000000001")]
    public void TryParse_rejects_an_amount_with_more_than_8_decimal_places(string text)
    {
        var ok = Money.TryParse(text, out var amount, out var error);

        Assert.False(ok);
        Assert.Equal(0m, amount);
        Assert.Equal(Money.TooPreciseMessage, error);
        Assert.Equal("Amount must have at most 8 decimal places", error);
    }

    public static TheoryData<decimal, bool> Precisions => new()
    {
        { 0m, true },
        { 0.00000001m, true },
        { 0.12345678m, true },
        { 1.000000000000m, true },
        { Money.Limit, true },
        { Money.Limit - 0.00000001m, true },
        { decimal.MaxValue, true },
        { 0.000000001m, false },
        { 0.123456789m, false },
        { -0.000000001m, false },
        { 0.0000000000000000000000000001m, false },
        { Money.Limit - 0.000000001m, false },
    };

    [Theory]
    [MemberData(nameof(Precisions))]
    public void HasSupportedPrecision_allows_at_most_8_significant_decimal_places(decimal amount, bool expected)
    {
        Assert.Equal(expected, Money.HasSupportedPrecision(amount));
    }

    public static TheoryData<decimal, bool> Validities => new()
    {
        { 0m, true },
        { 0.12345678m, true },
        { 1.000000000m, true },
        { Money.Limit, true },
        { -Money.Limit, true },
        { 0.123456789m, false },
        { Money.Limit + 0.00000001m, false },
        { decimal.MaxValue, false },
        { decimal.MinValue, false },
    };

    [Theory]
    [MemberData(nameof(Validities))]
    public void IsValid_requires_both_the_limit_and_the_precision(decimal amount, bool expected)
    {
        Assert.Equal(expected, Money.IsValid(amount));
    }

    [Fact]
    public void Amounts_carry_at_most_8_decimal_places()
    {
        Assert.Equal(8, Money.MaxDecimalPlaces);
        Assert.Equal("Amount must have at most 8 decimal places", Money.TooPreciseMessage);
        Assert.Equal(Money.TooPreciseMessage, Rules.TooPrecise.Message);
    }

    [Fact]
    public void TryParse_shortens_long_text_in_its_error()
    {
        var text = new string('x', 1_000);

        Assert.False(Money.TryParse(text, out _, out var error));

        Assert.Equal($"'{new string('x', 40)}…' is not a valid amount", error);
    }

    [Fact]
    public void TryParse_and_Format_use_a_dot_whatever_the_current_culture()
    {
        var previous = CultureInfo.CurrentCulture;
        var commaCulture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        commaCulture.NumberFormat.NumberDecimalSeparator = ",";
        commaCulture.NumberFormat.NumberGroupSeparator = ".";
        try
        {
            CultureInfo.CurrentCulture = commaCulture;

            Assert.True(Money.TryParse("10.5", out var amount, out _));
            Assert.Equal(10.5m, amount);
            Assert.Equal("66.5", Money.Format(66.5m));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    public static TheoryData<decimal, string> Formats => new()
    {
        { 99m, "99.0" },
        { 99.0m, "99.0" },
        { 99.00m, "99.0" },
        { 66.5m, "66.5" },
        { 66.50m, "66.5" },
        { 0.0001m, "0.0001" },
        { -3m, "-3.0" },
        { 0m, "0.0" },
        { -0.5m, "-0.5" },
        { 33m, "33.0" },
        { 1000m, "1000.0" },
        { Money.Limit, "9223372036854775808.0" },
        { -Money.Limit, "-9223372036854775808.0" },
        { 0.0000000000000000000000000001m, "0.0000000000000000000000000001" },
        { 1.2345678901234567890123456789m, "1.2345678901234567890123456789" },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Format_prints_like_the_chapter_with_at_least_one_decimal_place(decimal amount, string expected)
    {
        Assert.Equal(expected, Money.Format(amount));
    }

    [Theory]
    [InlineData("99")]
    [InlineData("66.5")]
    [InlineData("-3")]
    [InlineData("0.0001")]
    [InlineData("9223372036854775808")]
    public void Format_output_parses_back_to_the_same_amount(string text)
    {
        Assert.True(Money.TryParse(text, out var amount, out _));

        Assert.True(Money.TryParse(Money.Format(amount), out var roundTripped, out _));
        Assert.Equal(amount, roundTripped);
    }

    public static TheoryData<decimal, bool> Limits => new()
    {
        { 0m, true },
        { Money.Limit, true },
        { -Money.Limit, true },
        { Money.Limit + 0.000000001m, false },
        { -Money.Limit - 0.000000001m, false },
        { decimal.MaxValue, false },
        { decimal.MinValue, false },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public void IsWithinLimit_allows_magnitudes_up_to_and_including_two_to_the_63(decimal amount, bool expected)
    {
        Assert.Equal(expected, Money.IsWithinLimit(amount));
    }

    [Fact]
    public void The_limit_is_exactly_two_to_the_63()
    {
        Assert.Equal(9_223_372_036_854_775_808m, Money.Limit);
        Assert.Equal((decimal)long.MaxValue + 1m, Money.Limit);
    }
}
