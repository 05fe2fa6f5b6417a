using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Parley
{
    /// <summary>The engine's status codes (stable values, see parley.h).</summary>
    public enum Status
    {
        Ok = ParleyNative.PARLEY_OK,
        InvalidArgument = ParleyNative.PARLEY_EINVAL,
        Config = ParleyNative.PARLEY_ECONFIG,
        OutOfMemory = ParleyNative.PARLEY_ENOMEM,
        State = ParleyNative.PARLEY_ESTATE,
        Timeout = ParleyNative.PARLEY_ETIMEOUT,
        NotFound = ParleyNative.PARLEY_ENOTFOUND,
        Unsupported = ParleyNative.PARLEY_EUNSUPPORTED,
        IO = ParleyNative.PARLEY_EIO,
        Format = ParleyNative.PARLEY_EFORMAT,
        Protocol = ParleyNative.PARLEY_EPROTOCOL,
        Provider = ParleyNative.PARLEY_EPROVIDER,
        Cancelled = ParleyNative.PARLEY_ECANCELLED,
        Full = ParleyNative.PARLEY_EFULL,
        Internal = ParleyNative.PARLEY_EINTERNAL,
    }

    /// <summary>
    /// A call into Parley failed: the engine's status and its message (for configuration, the
    /// message names the JSON path, e.g. <c>runtime config: $.io_threads: ...</c>). Raised by
    /// the generated wrapper, which reads the engine's thread-local error inside the same
    /// native call as the failure. (A disposed handle raises ObjectDisposedException.)
    /// </summary>
    public class ParleyException : Exception
    {
        public ParleyException(int code, string message) : base(message)
        {
            Code = code;
        }

        /// <summary>The C status code (a negative PARLEY_E* value).</summary>
        public int Code { get; private set; }

        /// <summary>The status as an enum value (an undefined value for codes newer than this binding).</summary>
        public Status Status { get { return (Status)Code; } }

        /// <summary>The engine's name for the status ("PARLEY_ECONFIG").</summary>
        public string StatusName { get { return ParleyNative.parley_status_name(Code); } }

        public override string ToString()
        {
            return "ParleyException[" + StatusName + " (" + Code + ")]: " + Message;
        }
    }

    internal static class Utf8
    {
        /// <summary>Refuses a string that C would cut short at an embedded NUL.</summary>
        internal static string Check(string text)
        {
            if (text != null && text.IndexOf('\0') >= 0)
                throw new ParleyException(ParleyNative.PARLEY_EINVAL, "string contains a NUL character");
            return text;
        }

        internal static string FromNative(IntPtr text)
        {
            if (text == IntPtr.Zero) return null;
            int length = 0;
            while (Marshal.ReadByte(text, length) != 0) length++;
            byte[] bytes = new byte[length];
            Marshal.Copy(text, bytes, 0, length);
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
