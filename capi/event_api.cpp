// parley_event_*: accessors for the owned event record (core::Event behind the handle).
#include "boundary.hpp"
#include "core/event.hpp"

namespace {

const parley::core::Event *engine(const parley_event *event) {
  return reinterpret_cast<const parley::core::Event *>(event);
}

}  // namespace

extern "C" {

PARLEY_API int parley_event_type_of(const parley_event *event) {
  return event == nullptr ? PARLEY_EVENT_NONE : static_cast<int>(engine(event)->type);
}

PARLEY_API const char *parley_event_type_name(int type) { return parley::core::event_type_name(type); }

PARLEY_API const char *parley_event_session_id(const parley_event *event) {
  return event == nullptr ? "" : engine(event)->session_id.c_str();
}

PARLEY_API const char *parley_event_payload(const parley_event *event) {
  return event == nullptr ? "{}" : engine(event)->payload_json.c_str();
}

PARLEY_API size_t parley_event_audio(const int16_t **out_samples, size_t *out_count,
                                     int *out_sample_rate, const parley_event *event) {
  const auto *record = event == nullptr ? nullptr : engine(event);
  const bool has_audio = record != nullptr && !record->audio.empty();
  if (out_samples != nullptr) *out_samples = has_audio ? record->audio.data() : nullptr;
  if (out_count != nullptr) *out_count = has_audio ? record->audio.size() : 0;
  if (out_sample_rate != nullptr) *out_sample_rate = has_audio ? record->sample_rate : 0;
  return has_audio ? record->audio.size() : 0;
}

PARLEY_API int64_t parley_event_timestamp_us(const parley_event *event) {
  return event == nullptr ? 0 : engine(event)->timestamp_us;
}

PARLEY_API void parley_event_release(parley_event *event) {
  delete reinterpret_cast<parley::core::Event *>(event);
}

}  // extern "C"
