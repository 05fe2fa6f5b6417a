// The dialogue engine behind the `scripted` LLM: a flow of states, each with intents
// (keywords, regex, slot types), replies templated with slots, transitions, tool calls and
// a fallback. The format is documented in docs/scripted-flow.md.
//
// The engine is stateless: respond() replays a whole conversation (the request's messages)
// through the flow and answers its last message. A host that edits the context, or a
// barge-in that truncates an assistant message, cannot desynchronise it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "providers/llm/llm.hpp"

namespace parley::providers::scripted {

/// A flow that failed validation. `path` is the JSON path of the offending field inside
/// the flow document ("$.states.ask_day.intents[0].regex"); what() is "path: problem".
class FlowError : public Error {
 public:
  FlowError(std::string path, std::string problem);
  const std::string &path() const noexcept { return path_; }
  const std::string &problem() const noexcept { return problem_; }

 private:
  std::string path_;
  std::string problem_;
};

enum class SlotType { day_of_week, time, number, digits, yes_no, name, text };

/// "day_of_week", "time", ...; nullopt for an unknown name.
std::optional<SlotType> slot_type_from_name(std::string_view name);
const char *slot_type_name(SlotType type) noexcept;

/// What the engine hears: ASCII lowercased, punctuation turned into spaces (keeping
/// apostrophes inside words, "10:30" and "2.5"), spaces collapsed. "Ten A.M.!" -> "ten a m".
std::string normalize(std::string_view utterance);

/// Extracts a slot of `type` from `utterance` (raw text, normalised inside):
///   day_of_week "on tuesday" -> "Tuesday"    time "ten a m" -> "10:00 AM", "half past two" -> "2:30"
///   number "twenty five" -> "25"             digits "four five six" -> "456"
///   yes_no "yeah that's right" -> "yes"      name "my name is john smith" -> "John Smith"
///   text: the utterance, trimmed.
/// nullopt when the utterance holds no such value.
std::optional<std::string> extract_slot(SlotType type, std::string_view utterance);

/// Splits a reply the way a model's tokenizer streams it: a word with its leading spaces,
/// each punctuation mark on its own, "'t" / "'s" split from their word. Concatenating the
/// pieces gives `text` back exactly.
std::vector<std::string_view> split_tokens(std::string_view text);

/// The engine's answer to one request.
struct Turn {
  std::string state;    // the state the conversation is in after the replay
  std::string intent;   // what the last user message matched: an intent's name, "" if unnamed,
                        // "fallback", or "" when the request ends with no user message
  std::map<std::string, std::string> slots;
  std::string text;     // the reply, may be empty
  std::vector<ToolCall> tool_calls;  // when non-empty the reply ends with finish_reason tool_calls
};

class Flow {
 public:
  /// Validates and compiles a flow document. Throws FlowError naming the field's JSON path
  /// (regexes are compiled here, once; unknown keys, states and slots are rejected).
  static std::shared_ptr<const Flow> parse(const nlohmann::json &document);
  /// The same from JSON text; a syntax error is a FlowError at "$".
  static std::shared_ptr<const Flow> parse_text(std::string_view text);

  ~Flow();
  Flow(const Flow &) = delete;
  Flow &operator=(const Flow &) = delete;

  /// Replays `messages` and answers the last one (see docs/scripted-flow.md, "Replay").
  /// `seed` picks among reply variants, deterministically for a given conversation.
  Turn respond(const std::vector<ChatMessage> &messages, uint64_t seed = 0) const;

  /// A JSGF grammar (for pocketsphinx) accepting the flow's sample utterances, keyword
  /// phrases and the vocabulary of its typed slots.
  std::string to_jsgf(std::string_view grammar_name) const;

  const std::string &name() const noexcept;
  const std::string &start_state() const noexcept;

  struct Impl;

 private:
  explicit Flow(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::providers::scripted
