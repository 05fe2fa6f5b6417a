using System;
using NUnit.Framework;

namespace Parley.Tests
{
    /// <summary>The budget controller used standalone.</summary>
    [TestFixture]
    public class BudgetTests
    {
        const string History = "[{\"role\":\"system\",\"content\":\"You are terse.\"},"
            + "{\"role\":\"user\",\"content\":\"Hello there\"},"
            + "{\"role\":\"assistant\",\"content\":\"Hi.\"},"
            + "{\"role\":\"user\",\"content\":\"What is the weather like on Mars today?\"}]";

        [Test]
        public void PrepareRecordStatsAndReport()
        {
            using (Budget budget = Budget.Create("{\"target_ms\": 800, \"model\": \"gpt-4o-mini\"}"))
            {
                Assert.Greater(budget.CountTokens("hello world, this is a sentence"), 3);
                for (int turn = 0; turn < 12; turn++)
                {
                    string toSend = budget.Prepare(History);
                    Assert.IsTrue(toSend.StartsWith("[") && toSend.Contains("Mars"), toSend);
                    budget.RecordTtft(300 + turn * 10);
                }
                string stats = budget.StatsJson();
                Assert.AreEqual(12, Json.Number(stats, "samples"), stats);
                Assert.AreEqual("default/gpt-4o-mini", Json.Field(stats, "model"), stats);
                StringAssert.StartsWith("{", budget.Report(ReportFormat.Json));
                Assert.IsNotEmpty(budget.Report(ReportFormat.Text));
                budget.SelectModel("openai", "gpt-4o");
                budget.RecordTtft(250, 1200);
                Assert.AreEqual("openai/gpt-4o", Json.Field(budget.StatsJson(), "model"));
            }
        }

        [Test]
        public void BadInputIsAParleyException()
        {
            ParleyException e = Assert.Throws<ParleyException>(() => Budget.Create("{\"target_ms\": \"fast\"}"));
            Assert.AreEqual(Status.Config, e.Status);
            StringAssert.Contains("$.target_ms", e.Message);

            Budget budget = Budget.Create(null);
            e = Assert.Throws<ParleyException>(() => budget.Prepare("[{\"role\": 5}]"));
            Assert.AreEqual(Status.Format, e.Status);
            StringAssert.Contains("$[0]", e.Message);
            e = Assert.Throws<ParleyException>(() => budget.RecordTtft(-5));
            Assert.AreEqual(Status.InvalidArgument, e.Status);
            e = Assert.Throws<ParleyException>(() => budget.ProvideSummary(42, "nothing asked"));
            Assert.AreEqual(Status.NotFound, e.Status);
            e = Assert.Throws<ParleyException>(() => budget.SelectModel(null, null));
            Assert.AreEqual(Status.InvalidArgument, e.Status);
            e = Assert.Throws<ParleyException>(() => budget.Prepare(null));
            Assert.AreEqual(Status.InvalidArgument, e.Status);
            budget.Dispose();
            budget.Dispose();
            Assert.Throws<ObjectDisposedException>(() => budget.CountTokens("x"));
        }

        [Test]
        public void ForgottenBudgetsAreFreedByTheirFinalizers()
        {
            for (int i = 0; i < 200; i++) Budget.Create(null).CountTokens("garbage");
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}
