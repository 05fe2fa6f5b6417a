// parley_selftest: the codec and resampler round trip behind `parley selftest`.
#include "boundary.hpp"
#include "core/selftest.hpp"

extern "C" PARLEY_API int parley_selftest(char **out_report_json) {
  return parley::capi::guard("parley_selftest", [&] {
    parley::capi::require(out_report_json, "out_report_json");
    const std::string report = parley::core::run_selftest().to_json();
    *out_report_json = parley::capi::copy_to_host(report);
  });
}
