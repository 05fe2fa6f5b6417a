#include "common/error.hpp"

namespace parley {

const char *status_name(Status status) noexcept {
  switch (status) {
    case Status::ok: return "ok";
    case Status::invalid_argument: return "invalid_argument";
    case Status::config: return "config";
    case Status::no_memory: return "no_memory";
    case Status::state: return "state";
    case Status::timeout: return "timeout";
    case Status::not_found: return "not_found";
    case Status::unsupported: return "unsupported";
    case Status::io: return "io";
    case Status::format: return "format";
    case Status::protocol: return "protocol";
    case Status::provider: return "provider";
    case Status::cancelled: return "cancelled";
    case Status::full: return "full";
    case Status::internal: return "internal";
  }
  return "unknown";
}

}  // namespace parley
