using System;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Parley.Tests
{
    /// <summary>Just enough JSON reading for the tests: the scalar value of a key, as text.</summary>
    internal static class Json
    {
        internal static string Field(string json, string key)
        {
            Match m = Regex.Match(json, "\"" + Regex.Escape(key) + "\"\\s*:\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|[-0-9.eE+]+|true|false|null)");
            if (!m.Success) return null;
            return m.Groups[2].Success ? m.Groups[2].Value : m.Groups[1].Value;
        }

        internal static long Number(string json, string key)
        {
            string value = Field(json, key);
            if (value == null) throw new Exception("no \"" + key + "\" in " + json);
            return (long)double.Parse(value, CultureInfo.InvariantCulture);
        }
    }
}
