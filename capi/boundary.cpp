#include "boundary.hpp"

#include <exception>
#include <nlohmann/json.hpp>

namespace parley::capi {
namespace {

struct LastError {
  bool set = false;
  std::string message;
  parley_error record{PARLEY_OK, ""};
};

LastError &last_error() noexcept {
  thread_local LastError error;
  return error;
}

}  // namespace

int set_error(Status status, std::string message) noexcept {
  auto &error = last_error();
  try {
    error.message = std::move(message);
  } catch (...) {
    error.message.clear();  // keep the code even when the message cannot be stored
  }
  error.record.code = static_cast<int>(status);
  error.record.message = error.message.c_str();
  error.set = true;
  return static_cast<int>(status);
}

void clear_error() noexcept { last_error().set = false; }

int status_from_current_exception(const char *function) noexcept {
  try {
    throw;
  } catch (const Error &e) {
    return set_error(e.status(), e.what());
  } catch (const nlohmann::json::exception &e) {
    return set_error(Status::format, std::string(function) + ": invalid JSON: " + e.what());
  } catch (const std::bad_alloc &) {
    return set_error(Status::no_memory, std::string(function) + ": out of memory");
  } catch (const std::exception &e) {
    return set_error(Status::internal, std::string(function) + ": internal error: " + e.what());
  } catch (...) {
    return set_error(Status::internal, std::string(function) + ": internal error: unknown exception");
  }
}

}  // namespace parley::capi

extern "C" {

PARLEY_API const parley_error *parley_error_last(void) {
  const auto &error = parley::capi::last_error();
  return error.set ? &error.record : nullptr;
}

PARLEY_API void parley_error_clear(void) { parley::capi::clear_error(); }

PARLEY_API const char *parley_status_name(int status) {
  switch (status) {
    case PARLEY_OK: return "PARLEY_OK";
    case PARLEY_EINVAL: return "PARLEY_EINVAL";
    case PARLEY_ECONFIG: return "PARLEY_ECONFIG";
    case PARLEY_ENOMEM: return "PARLEY_ENOMEM";
    case PARLEY_ESTATE: return "PARLEY_ESTATE";
    case PARLEY_ETIMEOUT: return "PARLEY_ETIMEOUT";
    case PARLEY_ENOTFOUND: return "PARLEY_ENOTFOUND";
    case PARLEY_EUNSUPPORTED: return "PARLEY_EUNSUPPORTED";
    case PARLEY_EIO: return "PARLEY_EIO";
    case PARLEY_EFORMAT: return "PARLEY_EFORMAT";
    case PARLEY_EPROTOCOL: return "PARLEY_EPROTOCOL";
    case PARLEY_EPROVIDER: return "PARLEY_EPROVIDER";
    case PARLEY_ECANCELLED: return "PARLEY_ECANCELLED";
    case PARLEY_EFULL: return "PARLEY_EFULL";
    case PARLEY_EINTERNAL: return "PARLEY_EINTERNAL";
    default: return "PARLEY_UNKNOWN";
  }
}

PARLEY_API void parley_string_free(char *string) { delete[] string; }

}  // extern "C"
