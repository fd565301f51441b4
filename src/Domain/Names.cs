namespace Bank.Domain;

/// <summary>Validation of actor names and account keys, with one-line errors for people.</summary>
public static class Names
{
    public const int MaxNameLength = 128;
    public const int MaxKeyLength = 128;

    /// <returns>null when the name is acceptable, else why not.</returns>
    public static string? ValidateActorName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return "Actor name must not be empty";
        if (name.Length > MaxNameLength)
            return $"Actor name is {name.Length} characters long; the limit is {MaxNameLength}";
        if (name.Any(char.IsControl))
            return "Actor name must not contain control characters";
        if (name.Trim().Length != name.Length)
            return "Actor name must not start or end with white space";
        return null;
    }

    /// <returns>null when the key is acceptable, else why not.</returns>
    public static string? ValidateAccountKey(string? key)
    {
        if (string.IsNullOrEmpty(key))
            return "Account key must not be empty";
        if (key.Length > MaxKeyLength)
            return $"Account key is {key.Length} characters long; the limit is {MaxKeyLength}";
        if (!key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            return "Account key may contain only letters, digits, '-', '_', '.' and ':'";
        return null;
    }
}
