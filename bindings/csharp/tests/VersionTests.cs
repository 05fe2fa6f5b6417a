using NUnit.Framework;

namespace Parley.Tests
{
    [TestFixture]
    public class VersionTests
    {
        [Test]
        public void LoadedLibraryMatchesTheHeaderTheBindingWasGeneratedFrom()
        {
            Assert.AreEqual(ParleyLibrary.BindingVersion, ParleyLibrary.Version);
            string[] parts = ParleyLibrary.Version.Split('.');
            Assert.AreEqual(3, parts.Length);
            Assert.AreEqual(int.Parse(parts[0]) * 10000 + int.Parse(parts[1]) * 100 + int.Parse(parts[2]), ParleyLibrary.VersionNumber);
            ParleyLibrary.CheckVersion();
        }

        [Test]
        public void StatusNamesAndSelftest()
        {
            Assert.AreEqual("PARLEY_ECONFIG", ParleyLibrary.StatusName((int)Status.Config));
            Assert.AreEqual("PARLEY_UNKNOWN", ParleyLibrary.StatusName(12345));
            string report = ParleyLibrary.Selftest();
            Assert.AreEqual("true", Json.Field(report, "ok"), report);
            StringAssert.Contains("\"checks\"", report);
        }
    }
}
