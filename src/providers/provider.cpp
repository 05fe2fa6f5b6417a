#include "providers/provider.hpp"

#include <nlohmann/json.hpp>

namespace parley::providers {

const char *error_kind_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::auth: return "auth";
    case ErrorKind::rate_limited: return "rate_limited";
    case ErrorKind::bad_request: return "bad_request";
    case ErrorKind::server: return "server";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::network: return "network";
    case ErrorKind::tls: return "tls";
    case ErrorKind::protocol: return "protocol";
    case ErrorKind::cancelled: return "cancelled";
    case ErrorKind::internal: return "internal";
  }
  return "unknown";
}

std::string ProviderError::to_json() const {
  nlohmann::json j = {{"kind", error_kind_name(kind)},
                      {"provider", provider},
                      {"message", message},
                      {"fatal", fatal}};
  if (http_status != 0) j["http_status"] = http_status;
  if (retry_after.count() > 0) j["retry_after_ms"] = retry_after.count();
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace parley::providers
