using System.Globalization;

namespace Bank.Domain;

/// <summary>Money is <see cref="decimal"/>: parsing, limits and the chapter's formatting ("99.0").</summary>
public static class Money
{
    /// <summary>2^63: no amount or balance may exceed this in magnitude.</summary>
    public const decimal Limit = 9_223_372_036_854_775_808m;

    /// <summary>
    /// Amounts carry at most 8 decimal places. With magnitudes up to 2^63 (19 digits) every sum and difference of two
    /// amounts then fits decimal's 28 significant digits exactly, so no deposit or withdrawal is ever rounded.
    /// </summary>
    public const int MaxDecimalPlaces = 8;

    public static bool IsWithinLimit(decimal amount) => amount <= Limit && amount >= -Limit;

    public static bool HasSupportedPrecision(decimal amount) => decimal.Round(amount, MaxDecimalPlaces) == amount;

    /// <summary>Within 2^63 and at most <see cref="MaxDecimalPlaces"/> decimal places.</summary>
    public static bool IsValid(decimal amount) => IsWithinLimit(amount) && HasSupportedPrecision(amount);

    /// <summary>Parses an amount typed by a person; never throws.</summary>
    public static bool TryParse(string? text, out decimal amount, out string error)
    {
        amount = 0m;
        var trimmed = text?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            error = "Amount is empty";
            return false;
        }

        const NumberStyles styles = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;
        if (decimal.TryParse(trimmed, styles, CultureInfo.InvariantCulture, out amount))
        {
            // decimal.TryParse rounds digits beyond its 28 significant ones, so the typed places are counted too.
            error = !IsWithinLimit(amount) ? OutOfRangeMessage
                : !HasSupportedPrecision(amount) || TypedDecimalPlaces(trimmed) > MaxDecimalPlaces ? TooPreciseMessage
                : string.Empty;
            if (error.Length == 0) return true;
            amount = 0m;
            return false;
        }

        // decimal refused it: tell a number that is too large or not finite from text that is no number at all.
        if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var approx))
        {
            error = double.IsNaN(approx) ? $"'{TextEcho.OneLine(trimmed)}' is not a finite amount" : OutOfRangeMessage;
            return false;
        }

        error = $"'{TextEcho.OneLine(trimmed)}' is not a valid amount";
        return false;
    }

    public const string OutOfRangeMessage = "Amount must be finite and at most 2^63 in magnitude";

    public const string TooPreciseMessage = "Amount must have at most 8 decimal places";

    /// <summary>Formats as Python prints a float balance: at least one decimal place, no trailing zeros beyond it.</summary>
    public static string Format(decimal amount) =>
        amount.ToString("0.0###########################", CultureInfo.InvariantCulture);

    /// <summary>Decimal places of a number as typed ("1.50e-3" has 4), trailing zeros not counted.</summary>
    private static int TypedDecimalPlaces(string text)
    {
        var e = text.IndexOfAny(['e', 'E']);
        var mantissa = e < 0 ? text : text[..e];
        var exponent = e < 0 ? 0 : int.TryParse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var x) ? x : 0;
        var point = mantissa.IndexOf('.');
        var fraction = point < 0 ? string.Empty : mantissa[(point + 1)..].TrimEnd('0');
        return Math.Max(0, fraction.Length - exponent);
    }
}
