#include "net/base64.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace parley::net {
namespace {

std::string encode(std::string_view text) {
  std::string out;
  base64_encode(std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(text.data()), text.size()), out);
  return out;
}

std::optional<std::string> decode(std::string_view text) {
  std::vector<uint8_t> out(base64_max_decoded_size(text.size()) + 3);
  const auto n = base64_decode(text, out);
  if (!n) return std::nullopt;
  return std::string(out.begin(), out.begin() + static_cast<long>(*n));
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char *, const char *> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto &[plain, coded] : vectors) {
    EXPECT_EQ(encode(plain), coded);
    EXPECT_EQ(decode(coded), std::optional<std::string>(plain));
  }
}

TEST(Base64, RoundTripsRandomBytes) {
  std::mt19937 rng(3);
  for (size_t size = 0; size < 300; ++size) {
    std::vector<uint8_t> bytes(size);
    for (auto &b : bytes) b = static_cast<uint8_t>(rng());
    std::string coded;
    base64_encode(bytes, coded);
    ASSERT_EQ(coded.size(), base64_encoded_size(size));
    std::vector<uint8_t> back(base64_max_decoded_size(coded.size()));
    const auto n = base64_decode(coded, back);
    ASSERT_TRUE(n.has_value());
    back.resize(*n);
    EXPECT_EQ(back, bytes);
  }
}

TEST(Base64, RejectsMalformedInput) {
  for (const char *bad : {"Zg=", "Zg", "Z===", "Zm9v!", "Zm 9", "Zh==" /* non-zero trailing bits */, "=Zg=", "Zg==Zg==",
                          "Zm9\n", "Zm8=a"}) {
    EXPECT_FALSE(decode(bad).has_value()) << bad;
  }
}

TEST(Base64, RefusesTooSmallOutput) {
  std::vector<uint8_t> out(2);
  EXPECT_FALSE(base64_decode("Zm9v", out).has_value());
}

}  // namespace
}  // namespace parley::net
