// Known-answer vectors from ../shared/protocols/twilio-rest.md (they match Twilio's SDK tests).
#include "transports/twilio/signature.hpp"

#include <gtest/gtest.h>

namespace parley::twilio {
namespace {

const FormParameters kParams = {{"CallSid", "CA1234567890ABCDE"}, {"Caller", "+14158675309"}, {"Digits", "1234"},
                                {"From", "+14158675309"}, {"To", "+18005551212"}};
constexpr const char *kUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";

TEST(TwilioSignature, KnownAnswers) {
  EXPECT_EQ(compute_signature("12345", kUrl, kParams), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  EXPECT_EQ(compute_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", kParams), "kvajT1Ptam85bY51eRf/AJRuM3w=");
  EXPECT_EQ(compute_signature("12345",
                              "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256="
                              "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"),
            "a9nBmqA0ju/hNViExpshrM61xv4=");
  const FormParameters repeated = {{"Sid", "CA123"}, {"SidAccount", "AC123"}, {"Digits", "5678"}, {"Digits", "1234"}, {"Digits", "1234"}};
  EXPECT_EQ(compute_signature("12345", kUrl, repeated), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

TEST(TwilioSignature, ValidationAcceptsBothPortFormsAndNothingElse) {
  EXPECT_TRUE(validate_signature("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", kUrl, kParams));
  EXPECT_TRUE(validate_signature("12345", "kvajT1Ptam85bY51eRf/AJRuM3w=", kUrl, kParams));  // signed with :443
  EXPECT_TRUE(validate_signature("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "https://mycompany.com:443/myapp.php?foo=1&bar=2", kParams));
  EXPECT_FALSE(validate_signature("12346", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", kUrl, kParams));
  EXPECT_FALSE(validate_signature("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8", kUrl, kParams));
  EXPECT_FALSE(validate_signature("12345", "", kUrl, kParams));
  EXPECT_FALSE(validate_signature("", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", kUrl, kParams));
  EXPECT_FALSE(validate_signature("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "https://mycompany.com:8443/myapp.php?foo=1&bar=2", kParams));
}

TEST(TwilioSignature, WebSocketUpgradeSignsTheUrlAlone) {
  const std::string url = "wss://agent.example.test/twilio/media";
  const std::string signature = compute_signature("token-xyz", url);
  EXPECT_TRUE(validate_signature("token-xyz", signature, url));
  EXPECT_TRUE(validate_signature("token-xyz", signature, "wss://agent.example.test:443/twilio/media"));
  EXPECT_FALSE(validate_signature("token-xyz", signature, "wss://agent.example.test/twilio/other"));
}

}  // namespace
}  // namespace parley::twilio
