// Who may open a call: the token in the query (browsers cannot set headers on a WebSocket),
// the Origin allow-list (cross-site WebSocket hijacking), and capacity.
#include <gtest/gtest.h>

#include <cstdlib>

#include "browser_fixture.hpp"

namespace parley::browser::testing {
namespace {

TEST(BrowserAccess, TokenMustMatch) {
  Server server(nlohmann::json{{"auth_token", "s3cr3t/+token"}});
  {
    RawPage page;
    EXPECT_EQ(page.connect(server.url()), 403);
    EXPECT_NE(page.ws().response_body().find("missing token"), std::string::npos) << page.ws().response_body();
  }
  for (const char *query : {"?token=wrong", "?token=s3cr3t", "?token=s3cr3t/+token2", "?token=", "?token=%zz"}) {
    RawPage page;
    EXPECT_EQ(page.connect(server.url(query)), 403) << query;
    EXPECT_NE(page.ws().response_body().find("token does not match"), std::string::npos) << query << ": " << page.ws().response_body();
  }
  // As encodeURIComponent writes it, among other parameters.
  for (const char *query : {"?token=s3cr3t%2F%2Btoken", "?lang=en&token=s3cr3t%2f%2btoken&x"}) {
    RawPage page;
    ASSERT_EQ(page.connect(server.url(query)), 101) << query;
    EXPECT_TRUE(page.start(16000)) << query;
  }
  EXPECT_FALSE(server.wait_for(core::EventType::session_error, 100ms)) << "refusals are not session events";
}

TEST(BrowserAccess, TokenFromTheEnvironment) {
  ::setenv("PARLEY_BROWSER_TEST_TOKEN", "from-env", 1);
  Server server(nlohmann::json{{"auth_token_env", "PARLEY_BROWSER_TEST_TOKEN"}});
  ::unsetenv("PARLEY_BROWSER_TEST_TOKEN");
  RawPage refused, accepted;
  EXPECT_EQ(refused.connect(server.url("?token=other")), 403);
  EXPECT_EQ(accepted.connect(server.url("?token=from-env")), 101);
}

TEST(BrowserAccess, OriginMustBeAllowed) {
  Server server(nlohmann::json{{"allowed_origins", {"https://app.example.com", "http://localhost:5173"}}});
  {
    RawPage page;
    EXPECT_EQ(page.connect(server.url(), {{"Origin", "https://evil.example"}}), 403);
    EXPECT_NE(page.ws().response_body().find("origin https://evil.example is not allowed"), std::string::npos)
        << page.ws().response_body();
  }
  {
    RawPage page;  // a look-alike is not the origin
    EXPECT_EQ(page.connect(server.url(), {{"Origin", "https://app.example.com.evil.example"}}), 403);
  }
  {
    RawPage page;
    EXPECT_EQ(page.connect(server.url()), 403);
    EXPECT_NE(page.ws().response_body().find("missing Origin"), std::string::npos) << page.ws().response_body();
  }
  for (const char *origin : {"https://app.example.com", "HTTPS://APP.EXAMPLE.COM", "http://localhost:5173"}) {
    RawPage page;
    ASSERT_EQ(page.connect(server.url(), {{"Origin", origin}}), 101) << origin;
    EXPECT_TRUE(page.start(16000)) << origin;
  }
}

TEST(BrowserAccess, AnyOriginWhenNoListIsConfigured) {
  Server server;
  RawPage page;
  EXPECT_EQ(page.connect(server.url(), {{"Origin", "https://anywhere.example"}}), 101);
}

TEST(BrowserAccess, OverCapacityCloses1013) {
  Server server(nlohmann::json{{"max_calls", 1}});
  RawPage first;
  ASSERT_EQ(first.connect(server.url()), 101);
  ASSERT_TRUE(first.start(16000));

  RawPage second;
  ASSERT_EQ(second.connect(server.url()), 101);
  second.read_for(500ms);
  EXPECT_FALSE(second.ws().is_open());
  EXPECT_EQ(second.ws().close_code(), 1013);
  EXPECT_NE(second.ws().close_reason().find("server at capacity"), std::string::npos) << second.ws().close_reason();
  auto rejected = server.wait_for(core::EventType::session_rejected);
  ASSERT_TRUE(rejected);
  EXPECT_EQ(payload(rejected)["listener"], server.listener().id());

  // The first call is unaffected, and once it ends there is room again.
  EXPECT_FALSE(first.talk(tone(440, 16000, 0.2), 16000).audio.empty());
  first.send(R"({"type":"stop"})");
  ASSERT_TRUE(server.wait_for(core::EventType::session_stopped));
  RawPage third;
  ASSERT_EQ(third.connect(server.url()), 101);
  EXPECT_TRUE(third.start(16000));
}

TEST(BrowserAccess, DrainHangsUpLiveCallsWithTheReason) {
  Server server;
  RawPage page;
  ASSERT_EQ(page.connect(server.url()), 101);
  ASSERT_TRUE(page.start(16000));
  EXPECT_EQ(server.listener().drain(100ms), 1u);
  page.read_for(500ms);
  EXPECT_EQ(page.ws().close_code(), 1000);
  EXPECT_EQ(page.ws().close_reason(), "server shutting down");
}

}  // namespace
}  // namespace parley::browser::testing
