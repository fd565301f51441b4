using System.Globalization;

namespace Bank.Domain;

/// <summary>Echoes what a person typed inside a one-line error: no line breaks, and long text cut short.</summary>
public static class TextEcho
{
    public const int MaxLength = 40;

    public static string OneLine(string text)
    {
        var oneLine = new string(text.Select(c => char.IsControl(c) || IsLineSeparator(c) ? '?' : c).ToArray());
        if (oneLine.Length <= MaxLength) return oneLine;
        var cut = char.IsHighSurrogate(oneLine[MaxLength - 1]) ? MaxLength - 1 : MaxLength;
        return oneLine[..cut] + "…";
    }

    private static bool IsLineSeparator(char c) =>
        char.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
