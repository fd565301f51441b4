using System.Globalization;
using Xunit;

namespace Bank.Domain.Tests;

public class NamesSpecs
{
    [Theory]
    [InlineData("Account")]
    [InlineData("account-1")]
    [InlineData("Savings account")]
    [InlineData("a")]
    public void ValidateActorName_accepts_an_ordinary_name(string name)
    {
        Assert.Null(Names.ValidateActorName(name));
    }

    [Fact]
    public void ValidateActorName_accepts_a_name_of_exactly_128_characters()
    {
        Assert.Null(Names.ValidateActorName(new string('a', 128)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t")]
    public void ValidateActorName_rejects_a_missing_or_blank_name(string? name)
    {
        Assert.Equal("Actor name must not be empty", Names.ValidateActorName(name));
    }

    [Theory]
    [InlineData(129)]
    [InlineData(10_000)]
    public void ValidateActorName_rejects_a_name_longer_than_128_characters_and_names_the_limit(int length)
    {
        var error = Names.ValidateActorName(new string('a', length));

        Assert.NotNull(error);
        Assert.Contains("128", error);
        Assert.Contains(length.ToString(CultureInfo.InvariantCulture), error);
        Assert.Equal($"Actor name is {length} characters long; the limit is 128", error);
    }

    [Fact]
    public void ValidateActorName_error_for_a_huge_name_stays_short()
    {
        var error = Names.ValidateActorName(new string('a', 10_000));

        Assert.NotNull(error);
        Assert.True(error.Length < 100, error);
    }

    [Theory]
    [InlineData("Acc\0ount")]
    [InlineData("Acc\tount")]
    [InlineData("Acc\nount")]
    [InlineData("Account\r\n")]
    [InlineData("Acc\u001bount")]
    [InlineData("Acc\u007fount")]
    public void ValidateActorName_rejects_control_characters(string name)
    {
        Assert.Equal("Actor name must not contain control characters", Names.ValidateActorName(name));
    }

    [Theory]
    [InlineData(" Account")]
    [InlineData("Account ")]
    [InlineData(" Account ")]
    [InlineData("\u00a0Account")]
    public void ValidateActorName_rejects_leading_or_trailing_white_space(string name)
    {
        Assert.Equal("Actor name must not start or end with white space", Names.ValidateActorName(name));
    }

    [Theory]
    [InlineData("1234567")]
    [InlineData("a-b_c.d:e")]
    [InlineData("ABCxyz09")]
    [InlineData("a")]
    public void ValidateAccountKey_accepts_letters_digits_and_the_allowed_punctuation(string key)
    {
        Assert.Null(Names.ValidateAccountKey(key));
    }

    [Fact]
    public void ValidateAccountKey_accepts_a_key_of_exactly_128_characters()
    {
        Assert.Null(Names.ValidateAccountKey(new string('7', 128)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void ValidateAccountKey_rejects_a_missing_key(string? key)
    {
        Assert.Equal("Account key must not be empty", Names.ValidateAccountKey(key));
    }

    [Theory]
    [InlineData(129)]
    [InlineData(10_000)]
    public void ValidateAccountKey_rejects_a_key_longer_than_128_characters_and_names_the_limit(int length)
    {
        Assert.Equal(
            $"Account key is {length} characters long; the limit is 128",
            Names.ValidateAccountKey(new string('7', length)));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData(" ")]
    [InlineData("a/b")]
    [InlineData("a#b")]
    [InlineData("key\n")]
    [InlineData("caf\u00e9")]
    [InlineData("\u0661\u0662\u0663")]
    public void ValidateAccountKey_rejects_characters_other_than_ascii_letters_digits_and_allowed_punctuation(string key)
    {
        Assert.Equal(
            "Account key may contain only letters, digits, '-', '_', '.' and ':'",
            Names.ValidateAccountKey(key));
    }
}
