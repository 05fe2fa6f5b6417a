namespace Parley
{
    /// <summary>Library-wide functions: versions, status names, the codec self-test.</summary>
    public static class ParleyLibrary
    {
        /// <summary>The version of the native library actually loaded, "MAJOR.MINOR.PATCH".</summary>
        public static string Version { get { return ParleyNative.parley_version(); } }

        /// <summary>The version of the header this binding was generated from.</summary>
        public static string BindingVersion { get { return ParleyNative.PARLEY_VERSION_STRING; } }

        /// <summary>The loaded library's version as major * 10000 + minor * 100 + patch.</summary>
        public static int VersionNumber { get { return ParleyNative.parley_swig_version_number(); } }

        /// <summary>Throws unless the loaded library has the major and minor version the binding was made for.</summary>
        public static void CheckVersion()
        {
            if (VersionNumber / 100 != ParleyNative.PARLEY_VERSION_NUMBER / 100)
                throw new ParleyException(ParleyNative.PARLEY_EUNSUPPORTED,
                    "libparley " + Version + " loaded, binding made for " + BindingVersion);
        }

        /// <summary>A stable name for a status code ("PARLEY_ECONFIG").</summary>
        public static string StatusName(int status) { return ParleyNative.parley_status_name(status); }

        /// <summary>Round-trips a tone through the codecs and resampler; a JSON report with "ok".</summary>
        public static string Selftest() { return ParleyNative.parley_swig_selftest(); }
    }
}
