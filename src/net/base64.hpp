// Standard base64 (RFC 4648 alphabet, '=' padding), as Twilio and the speech APIs use for
// audio in JSON. Decoding is strict: wrong characters, bad padding or a bad length are
// errors, never silently skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace parley::net {

/// Characters needed to encode `bytes` bytes (with padding).
constexpr size_t base64_encoded_size(size_t bytes) noexcept { return (bytes + 2) / 3 * 4; }
/// Upper bound on the bytes `chars` characters decode to.
constexpr size_t base64_max_decoded_size(size_t chars) noexcept { return chars / 4 * 3; }

/// Appends the encoding of `in` to `out`.
void base64_encode(std::span<const uint8_t> in, std::string &out);

/// Decodes `in` into `out` (which must hold base64_max_decoded_size(in.size()) bytes) and
/// returns the count, or nullopt when `in` is not valid padded base64.
std::optional<size_t> base64_decode(std::string_view in, std::span<uint8_t> out) noexcept;

}  // namespace parley::net
