#include "core/redact.hpp"

#include <gtest/gtest.h>

namespace parley::core {
namespace {

struct Case {
  const char *input;
  const char *secret_part;  // must not survive
  const char *kept_part;    // must survive
};

class RedactPatterns : public ::testing::TestWithParam<Case> {};

TEST_P(RedactPatterns, MasksSecretKeepsContext) {
  const Case &c = GetParam();
  const std::string out = redact_patterns(c.input);
  EXPECT_EQ(out.find(c.secret_part), std::string::npos) << out;
  EXPECT_NE(out.find(c.kept_part), std::string::npos) << out;
  EXPECT_NE(out.find(kRedacted), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, RedactPatterns,
    ::testing::Values(
        Case{"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9", "Authorization: Bearer "},
        Case{"authorization: Basic QUN4eHg6c2VjcmV0", "QUN4eHg6c2VjcmV0", "authorization: Basic "},
        Case{"xi-api-key: 0123456789abcdef0123", "0123456789abcdef0123", "xi-api-key: "},
        Case{"Ocp-Apim-Subscription-Key: 9f8e7d6c5b4a39281706", "9f8e7d6c5b4a39281706", "Ocp-Apim-Subscription-Key"},
        Case{"GET /v1/listen?token=abc123secretvalue&model=nova", "abc123secretvalue", "model=nova"},
        Case{R"({"api_key": "hunter2hunter2", "model": "gpt"})", "hunter2hunter2", R"("model": "gpt")"},
        Case{R"({"auth_token":"tok_live_987654"})", "tok_live_987654", "auth_token"},
        Case{"OPENAI_API_KEY=sk-proj-abcdefghijklmnop1234", "abcdefghijklmnop1234", "OPENAI_API_KEY="},
        Case{"request failed with key sk-abcdefghijklmnopqrstuv", "abcdefghijklmnopqrstuv", "request failed with key"},
        Case{"x-twilio-signature: Dvy0Ox2Qm8vWYXR0aW5n+/=", "Dvy0Ox2Qm8vWYXR0aW5n", "x-twilio-signature"},
        Case{"password=correct-horse-battery", "correct-horse-battery", "password="}),
    [](const ::testing::TestParamInfo<Case> &param) { return "case" + std::to_string(param.index); });

TEST(Redact, LeavesOrdinaryTextAlone) {
  const std::string text = "call CA123 started: 3 frames, keyboard tokens=12 monkey=banana, skip-this";
  EXPECT_EQ(redact_patterns("call started, 3 frames received"), "call started, 3 frames received");
  EXPECT_EQ(redact_patterns("the key point is latency"), "the key point is latency");
  EXPECT_EQ(redact_patterns("sk-short"), "sk-short");
  EXPECT_EQ(redact_patterns(""), "");
}

TEST(Redact, RegisteredSecretsAreMaskedAnywhere) {
  SecretRegistry registry;
  registry.add("AC-private-value-42");
  registry.add("abc");  // too short to register
  const std::string out = registry.redact("connect(AC-private-value-42) abc AC-private-value-42!");
  EXPECT_EQ(out, "connect([REDACTED]) abc [REDACTED]!");
}

TEST(Redact, LongerSecretMaskedWholeWhenItContainsAnother) {
  SecretRegistry registry;
  registry.add("secret-one");
  registry.add("secret-one-and-more");
  EXPECT_EQ(registry.redact("x secret-one-and-more y"), "x [REDACTED] y");
}

}  // namespace
}  // namespace parley::core
