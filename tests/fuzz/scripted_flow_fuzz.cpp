// The scripted LLM's flow engine. The first byte picks what the rest is:
// - even: a conversation replayed through the appointment flow, one message a line
//   ("A:" assistant, "T:" tool result, anything else the caller's words as STT heard them);
//   every slot extractor also sees the whole text;
// - odd: a flow document, which must load or be refused with a FlowError.
// Neither may crash, hang or throw anything else; split_tokens must lose no byte.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "providers/llm/scripted_flow.hpp"

namespace scripted = parley::providers::scripted;

namespace {

const scripted::Flow &appointment() {
  static const auto flow = [] {
    std::ifstream in(PARLEY_FLOW_DIR "/appointment.json");
    std::ostringstream text;
    text << in.rdbuf();
    return scripted::Flow::parse_text(text.str());
  }();
  return *flow;
}

void check_tokens(std::string_view text) {
  std::string joined;
  for (auto token : scripted::split_tokens(text)) {
    if (token.empty()) std::abort();
    joined += token;
  }
  if (joined != text) std::abort();
}

void conversation(std::string_view text) {
  std::vector<parley::providers::ChatMessage> messages;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    if (line.starts_with("A:")) {
      messages.push_back({"assistant", std::string(line.substr(2)), {}, {}});
    } else if (line.starts_with("T:")) {
      messages.push_back({"tool", std::string(line.substr(2)), {}, "call"});
    } else {
      messages.push_back({"user", std::string(line), {}, {}});
    }
    start = end + 1;
  }
  const auto turn = appointment().respond(messages, text.size());
  check_tokens(turn.text);
  for (auto type : {scripted::SlotType::day_of_week, scripted::SlotType::time, scripted::SlotType::number,
                    scripted::SlotType::digits, scripted::SlotType::yes_no, scripted::SlotType::name,
                    scripted::SlotType::text}) {
    (void)scripted::extract_slot(type, text);
  }
  check_tokens(text);
}

void flow_document(std::string_view text) {
  try {
    const auto flow = scripted::Flow::parse_text(text);
    (void)flow->to_jsgf("fuzz");
    (void)flow->respond({{"user", "yes", {}, {}}, {"user", "tuesday at ten a m", {}, {}}});
  } catch (const scripted::FlowError &) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char *>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    conversation(text);
  } else {
    flow_document(text);
  }
  return 0;
}
