// The exception-to-status boundary: whatever the engine throws becomes a status and a
// thread-local message; nothing escapes.
#include "boundary.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

namespace parley::capi {
namespace {

std::string last_message() {
  const parley_error *error = parley_error_last();
  return error == nullptr ? "" : error->message;
}

TEST(Boundary, EngineErrorKeepsItsStatusAndMessage) {
  const int status = guard("parley_test", [] { throw Error(Status::unsupported, "rate 11025 is not supported"); });
  EXPECT_EQ(status, PARLEY_EUNSUPPORTED);
  ASSERT_NE(parley_error_last(), nullptr);
  EXPECT_EQ(parley_error_last()->code, PARLEY_EUNSUPPORTED);
  EXPECT_EQ(last_message(), "rate 11025 is not supported");
}

TEST(Boundary, StandardExceptionsBecomeStatuses) {
  EXPECT_EQ(guard("parley_f", [] { throw std::bad_alloc(); }), PARLEY_ENOMEM);
  EXPECT_EQ(last_message(), "parley_f: out of memory");
  EXPECT_EQ(guard("parley_f", [] { throw std::out_of_range("vector::at"); }), PARLEY_EINTERNAL);
  EXPECT_EQ(last_message(), "parley_f: internal error: vector::at");
  EXPECT_EQ(guard("parley_f", [] { throw 42; }), PARLEY_EINTERNAL);
  EXPECT_EQ(last_message(), "parley_f: internal error: unknown exception");
  EXPECT_EQ(guard("parley_f", [] { auto parsed = nlohmann::json::parse("{oops"); parsed.clear(); }), PARLEY_EFORMAT);
  EXPECT_NE(last_message().find("parley_f: invalid JSON"), std::string::npos);
}

TEST(Boundary, SuccessClearsThePreviousError) {
  guard("parley_f", [] { throw Error(Status::io, "x"); });
  ASSERT_NE(parley_error_last(), nullptr);
  EXPECT_EQ(guard("parley_f", [] {}), PARLEY_OK);
  EXPECT_EQ(parley_error_last(), nullptr);
  EXPECT_EQ(guard("parley_f", [] { return 0; }), PARLEY_OK);
}

TEST(Boundary, ErrorsAreThreadLocal) {
  guard("parley_f", [] { throw Error(Status::timeout, "main thread error"); });
  std::string other_thread_message = "unset";
  std::thread([&] {
    other_thread_message = parley_error_last() == nullptr ? "none" : parley_error_last()->message;
    guard("parley_f", [] { throw Error(Status::io, "other thread error"); });
  }).join();
  EXPECT_EQ(other_thread_message, "none");
  EXPECT_EQ(last_message(), "main thread error");
}

TEST(Boundary, RequireNamesTheArgument) {
  const int *null = nullptr;
  EXPECT_EQ(guard("parley_f", [&] { require(null, "runtime"); }), PARLEY_EINVAL);
  EXPECT_EQ(last_message(), "runtime must not be NULL");
}

TEST(Boundary, StatusNamesAreStable) {
  EXPECT_STREQ(parley_status_name(PARLEY_OK), "PARLEY_OK");
  EXPECT_STREQ(parley_status_name(PARLEY_ECONFIG), "PARLEY_ECONFIG");
  EXPECT_STREQ(parley_status_name(-1000), "PARLEY_UNKNOWN");
  // The numeric values are ABI: changing one breaks every compiled host.
  EXPECT_EQ(PARLEY_EINVAL, -1);
  EXPECT_EQ(PARLEY_ECONFIG, -2);
  EXPECT_EQ(PARLEY_EFULL, -13);
  EXPECT_EQ(PARLEY_EINTERNAL, -99);
  EXPECT_EQ(static_cast<int>(Status::full), PARLEY_EFULL);
  EXPECT_EQ(static_cast<int>(Status::protocol), PARLEY_EPROTOCOL);
}

}  // namespace
}  // namespace parley::capi
