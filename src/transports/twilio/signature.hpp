// X-Twilio-Signature (../shared/protocols/twilio-rest.md): base64(HMAC-SHA1(auth token,
// URL + sorted form parameters)). Used on the Media Streams WebSocket upgrade (URL only)
// and, later, on webhooks.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::twilio {

using FormParameters = std::vector<std::pair<std::string, std::string>>;

/// The signature Twilio computes for `url` and `parameters` (empty for GET and WebSocket).
std::string compute_signature(std::string_view auth_token, std::string_view url, const FormParameters &parameters = {});

/// Whether `signature` is valid for `url`, comparing in constant time. Like Twilio's own
/// validator, also accepts the URL with its default port (:443 / :80) added or removed.
bool validate_signature(std::string_view auth_token, std::string_view signature, std::string_view url,
                        const FormParameters &parameters = {});

}  // namespace parley::twilio
