using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Parley
{
    /// <summary>
    /// Just enough JSON for provider request payloads (the assembly has no dependencies):
    /// objects become Dictionary&lt;string, object&gt;, arrays List&lt;object&gt;, numbers double,
    /// plus string, bool and null. Write serialises the same shapes.
    /// </summary>
    internal sealed class MiniJson
    {
        private readonly string text;
        private int at;

        private MiniJson(string text)
        {
            this.text = text;
        }

        internal static object Parse(string text)
        {
            var reader = new MiniJson(text ?? "");
            object value = reader.Value();
            reader.Space();
            if (reader.at != reader.text.Length) throw reader.Error("trailing characters");
            return value;
        }

        internal static Dictionary<string, object> Object(object value)
        {
            return value as Dictionary<string, object> ?? new Dictionary<string, object>();
        }

        internal static List<object> Array(object value)
        {
            return value as List<object> ?? new List<object>();
        }

        internal static object Get(Dictionary<string, object> map, string key)
        {
            object value;
            return map.TryGetValue(key, out value) ? value : null;
        }

        internal static string String(object value)
        {
            return value as string;
        }

        internal static long Number(object value, long fallback)
        {
            return value is double ? (long)(double)value : fallback;
        }

        private object Value()
        {
            Space();
            if (at >= text.Length) throw Error("unexpected end");
            char c = text[at];
            switch (c)
            {
                case '{':
                {
                    at++;
                    var map = new Dictionary<string, object>();
                    Space();
                    if (Peek('}')) return map;
                    do
                    {
                        Space();
                        string key = StringLiteral();
                        Space();
                        Expect(':');
                        map[key] = Value();
                        Space();
                    } while (Peek(','));
                    Expect('}');
                    return map;
                }
                case '[':
                {
                    at++;
                    var list = new List<object>();
                    Space();
                    if (Peek(']')) return list;
                    do
                    {
                        list.Add(Value());
                        Space();
                    } while (Peek(','));
                    Expect(']');
                    return list;
                }
                case '"':
                    return StringLiteral();
                case 't':
                    return Literal("true", true);
                case 'f':
                    return Literal("false", false);
                case 'n':
                    return Literal("null", null);
                default:
                {
                    int start = at;
                    while (at < text.Length && "+-0123456789.eE".IndexOf(text[at]) >= 0) at++;
                    if (start == at) throw Error("unexpected '" + c + "'");
                    return double.Parse(text.Substring(start, at - start), NumberStyles.Float, CultureInfo.InvariantCulture);
                }
            }
        }

        private string StringLiteral()
        {
            Expect('"');
            var output = new StringBuilder();
            while (at < text.Length)
            {
                char c = text[at++];
                if (c == '"') return output.ToString();
                if (c != '\\')
                {
                    output.Append(c);
                    continue;
                }
                if (at >= text.Length) break;
                char e = text[at++];
                switch (e)
                {
                    case 'b': output.Append('\b'); break;
                    case 'f': output.Append('\f'); break;
                    case 'n': output.Append('\n'); break;
                    case 'r': output.Append('\r'); break;
                    case 't': output.Append('\t'); break;
                    case 'u':
                        if (at + 4 > text.Length) throw Error("bad \\u escape");
                        output.Append((char)int.Parse(text.Substring(at, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        at += 4;
                        break;
                    default: output.Append(e); break;
                }
            }
            throw Error("unterminated string");
        }

        private object Literal(string word, object value)
        {
            if (string.CompareOrdinal(text, at, word, 0, word.Length) != 0) throw Error("expected " + word);
            at += word.Length;
            return value;
        }

        private void Space()
        {
            while (at < text.Length && char.IsWhiteSpace(text[at])) at++;
        }

        private bool Peek(char c)
        {
            if (at < text.Length && text[at] == c)
            {
                at++;
                return true;
            }
            return false;
        }

        private void Expect(char c)
        {
            if (!Peek(c)) throw Error("expected '" + c + "'");
        }

        private FormatException Error(string what)
        {
            return new FormatException("JSON: " + what + " at offset " + at);
        }

        internal static string Write(object value)
        {
            var output = new StringBuilder();
            Write(output, value);
            return output.ToString();
        }

        private static void Write(StringBuilder output, object value)
        {
            if (value == null)
            {
                output.Append("null");
            }
            else if (value is string)
            {
                Quote(output, (string)value);
            }
            else if (value is bool)
            {
                output.Append((bool)value ? "true" : "false");
            }
            else if (value is IDictionary<string, object>)
            {
                output.Append('{');
                bool first = true;
                foreach (KeyValuePair<string, object> entry in (IDictionary<string, object>)value)
                {
                    if (!first) output.Append(',');
                    first = false;
                    Quote(output, entry.Key);
                    output.Append(':');
                    Write(output, entry.Value);
                }
                output.Append('}');
            }
            else if (value is System.Collections.IEnumerable)
            {
                output.Append('[');
                bool first = true;
                foreach (object item in (System.Collections.IEnumerable)value)
                {
                    if (!first) output.Append(',');
                    first = false;
                    Write(output, item);
                }
                output.Append(']');
            }
            else if (value is IFormattable)
            {
                output.Append(((IFormattable)value).ToString(value is double ? "R" : null, CultureInfo.InvariantCulture));
            }
            else
            {
                Quote(output, value.ToString());
            }
        }

        private static void Quote(StringBuilder output, string s)
        {
            output.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': output.Append("\\\""); break;
                    case '\\': output.Append("\\\\"); break;
                    case '\n': output.Append("\\n"); break;
                    case '\r': output.Append("\\r"); break;
                    case '\t': output.Append("\\t"); break;
                    default:
                        if (c < 0x20) output.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else output.Append(c);
                        break;
                }
            }
            output.Append('"');
        }
    }
}
