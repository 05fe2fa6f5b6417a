// The pocketsphinx STT, for real: inline grammars, keyword spotting, the language model,
// cancellation, the bounded backlog, and config errors that name the path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "local_engines.hpp"

// sphinxbase's JSGF parser (a bison parser without destructors) leaks the partial parse of
// a grammar with a syntax error. Only a bad config gets there, once, but ErrorsNameThePath
// makes it do so; full malloc stacks let the suppression name that parser instead of all of
// sphinxbase, whose frames a fast unwind loses.
extern "C" __attribute__((visibility("default"), used)) const char *__lsan_default_suppressions() {
  return "leak:yyparse\n";
}
extern "C" __attribute__((visibility("default"), used)) const char *__asan_default_options() {
  return "fast_unwind_on_malloc=0:malloc_context_size=6";
}

namespace parley::providers::testing {
namespace {

std::vector<int16_t> padded(LocalEngines &engines, const std::string &text) {
  auto audio = silence(300);
  append(audio, say(engines, text));
  append(audio, silence(900));
  return audio;
}

TEST(Pocketsphinx, InlineJsgfGrammar) {
  LocalEngines engines;
  auto stt = engines.make_stt({{"jsgf", "#JSGF V1.0; grammar answers; public <answer> = yes | no | maybe | operator;"}});
  Heard heard;
  auto stream = stt->start(record(heard, engines.executor_thread));
  push_frames(*stream, padded(engines, "maybe"));
  ASSERT_TRUE(engines.run_until([&] { return heard.final_count() >= 1; }));
  push_frames(*stream, padded(engines, "operator"));
  ASSERT_TRUE(engines.run_until([&] { return heard.final_count() >= 2; }));
  EXPECT_EQ(heard.finals(), (std::vector<std::string>{"maybe", "operator"}));
  EXPECT_TRUE(heard.errors.empty());
}

TEST(Pocketsphinx, KeywordsAreSpottedInASentence) {
  LocalEngines engines;
  auto stt = engines.make_stt({{"keywords", "operator, cancel my order /1e-30/"}, {"max_backlog_ms", 10000}});
  Heard heard;
  auto stream = stt->start(record(heard, engines.executor_thread));

  push_frames(*stream, padded(engines, "please get me an operator"));
  ASSERT_TRUE(engines.run_until([&] { return heard.final_count() >= 1; }));
  const Transcript spotted = heard.transcripts.front();
  EXPECT_EQ(spotted.text, "operator");
  EXPECT_TRUE(spotted.is_final);
  EXPECT_FALSE(spotted.speech_final);  // a keyword, not the end of what the caller said

  // Speech without a keyword spots nothing; finalize() then gives the empty final.
  push_frames(*stream, padded(engines, "the weather is nice today"));
  stream->finalize();
  ASSERT_TRUE(engines.run_until([&] { return heard.final_count() >= 2; }));
  EXPECT_EQ(heard.finals(), (std::vector<std::string>{"operator", ""}));
  EXPECT_EQ(heard.speech_started, 2);
  EXPECT_TRUE(heard.errors.empty()) << heard.errors.front().message;
}

TEST(Pocketsphinx, LanguageModelByDefault) {
  LocalEngines engines;
  auto stt = engines.make_stt({{"max_backlog_ms", 10000}});
  Heard heard;
  auto stream = stt->start(record(heard, engines.executor_thread));
  push_frames(*stream, padded(engines, "how are you"));
  ASSERT_TRUE(engines.run_until([&] { return heard.final_count() >= 1 || !heard.errors.empty(); }));
  ASSERT_TRUE(heard.errors.empty()) << heard.errors.front().message;
  // Open vocabulary: espeak-ng's voice is not always heard right, but something is heard.
  EXPECT_FALSE(heard.finals().front().empty());
  EXPECT_EQ(heard.speech_started, 1);
}

TEST(Pocketsphinx, AWordMissingFromTheDictionaryIsAFatalError) {
  LocalEngines engines;
  auto stt = engines.make_stt({{"jsgf", "#JSGF V1.0; grammar g; public <a> = yes | flurbleglorp;"}});
  Heard heard;
  auto stream = stt->start(record(heard, engines.executor_thread));
  ASSERT_TRUE(engines.run_until([&] { return !heard.errors.empty(); }));
  const ProviderError &error = heard.errors.front();
  EXPECT_TRUE(error.fatal);
  EXPECT_EQ(error.kind, ErrorKind::bad_request);
  EXPECT_EQ(error.provider, "pocketsphinx");
  EXPECT_NE(error.message.find("flurbleglorp"), std::string::npos) << error.message;

  // Nothing more comes from a failed stream.
  push_frames(*stream, padded(engines, "yes"));
  stream->finalize();
  engines.run_for(300ms);
  EXPECT_EQ(heard.errors.size(), 1u);
  EXPECT_TRUE(heard.transcripts.empty());
}

TEST(Pocketsphinx, CancelStopsEveryCallbackAndTheDecoderServesTheNextStream) {
  LocalEngines engines;
  const auto audio = padded(engines, "i would like to book an appointment");
  auto stt = engines.make_stt({{"grammar", grammar_path("appointment.jsgf")}, {"max_backlog_ms", 10000}});

  Heard first;
  auto stream = stt->start(record(first, engines.executor_thread));
  push_frames(*stream, audio);
  ASSERT_TRUE(engines.run_until([&] { return first.speech_started > 0; }));
  stream->cancel();
  const size_t transcripts = first.transcripts.size();
  engines.run_for(500ms);
  EXPECT_EQ(first.transcripts.size(), transcripts);
  EXPECT_EQ(first.final_count(), 0u);
  EXPECT_TRUE(first.errors.empty());
  stream->push_audio(audio.data(), audio.size());  // ignored
  stream->finalize();
  engines.run_for(100ms);
  EXPECT_EQ(first.transcripts.size(), transcripts);

  // A stream destroyed from inside its own callback.
  Heard second;
  std::unique_ptr<SttStream> doomed;
  auto callbacks = record(second, engines.executor_thread);
  callbacks.on_speech_started = [&] {
    ++second.speech_started;
    doomed.reset();
  };
  doomed = stt->start(std::move(callbacks));
  push_frames(*doomed, audio);
  ASSERT_TRUE(engines.run_until([&] { return doomed == nullptr; }));
  engines.run_for(300ms);
  EXPECT_EQ(second.final_count(), 0u);

  Heard third;
  auto next = stt->start(record(third, engines.executor_thread));
  push_frames(*next, audio);
  ASSERT_TRUE(engines.run_until([&] { return third.final_count() >= 1; }));
  EXPECT_EQ(third.finals(), (std::vector<std::string>{"i would like to book an appointment"}));
}

TEST(Pocketsphinx, ABacklogOverflowDropsTheOldestAudioWithAWarning) {
  LocalEngines engines;
  auto stt = engines.make_stt({{"grammar", grammar_path("appointment.jsgf")}, {"max_backlog_ms", 500}});
  Heard heard;
  auto stream = stt->start(record(heard, engines.executor_thread));

  // Ten seconds at once, far more than 500 ms while the decoder loads: the head is dropped.
  std::vector<int16_t> audio;
  for (int i = 0; i < 5; ++i) append(audio, padded(engines, "no"));
  push_frames(*stream, audio);
  ASSERT_TRUE(engines.run_until([&] { return !heard.errors.empty(); }));
  EXPECT_FALSE(heard.errors.front().fatal);
  EXPECT_NE(heard.errors.front().message.find("dropping the oldest audio"), std::string::npos);

  // The stream goes on with what was kept.
  stream->finalize();
  ASSERT_TRUE(engines.run_until([&] { return heard.final_count() >= 1; }));
  engines.run_for(100ms);
  EXPECT_EQ(heard.errors.size(), 1u) << "one warning per overflow, not one per frame";
  EXPECT_EQ(heard.finals().size(), 1u);
}

class PocketsphinxConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("parley-ps-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string file(const std::string &name, const std::string &text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  std::filesystem::path dir_;
  LocalEngines engines;
};

TEST_F(PocketsphinxConfig, ErrorsNameThePath) {
  struct Case {
    nlohmann::json config;
    std::string expected;  // in the message
  };
  const std::string garbage = file("garbage.jsgf", "this is not a grammar {{{");
  const std::string broken = file("broken.jsgf", "#JSGF V1.0;\ngrammar b;\npublic <a> = (yes | no;\n");
  const std::string no_public = file("private.jsgf", "#JSGF V1.0; grammar p; <a> = yes | no;");
  const std::vector<Case> cases = {
      {{{"grammar", "/nonexistent/booking.jsgf"}}, "stt config: $.grammar: no readable JSGF file at \"/nonexistent/booking.jsgf\""},
      {{{"grammar", garbage}}, "$.grammar: not a JSGF grammar: it must start with \"#JSGF V1.0;\""},
      {{{"grammar", broken}}, "$.grammar: not a valid JSGF grammar: syntax error at line 3"},
      {{{"grammar", no_public}}, "$.grammar: the JSGF grammar has no public rule"},
      {{{"jsgf", "#JSGF V1.0; grammar g; public <a> = yes | no"}}, "$.jsgf: not a valid JSGF grammar"},
      {{{"grammar", grammar_path("appointment.jsgf")}, {"keywords", "yes"}}, "$.keywords: grammar, jsgf and keywords exclude each other"},
      {{{"keywords", " , \n"}}, "$.keywords: expected phrases"},
      {{{"keywords", "operator /loud/"}}, "$.keywords: \"operator /loud/\": expected a threshold"},
      {{{"keywords", "operator /2/"}}, "$.keywords"},
      {{{"keywords", 42}}, "$.keywords: expected a string"},
      {{{"jsgf", "#JSGF V1.0; grammar g; public <a> = yes;"}, {"lm", "/x.lm.bin"}}, "$.lm: the language model is not used with jsgf"},
      {{{"lm", "/nonexistent.lm.bin"}}, "$.lm: no readable language model at \"/nonexistent.lm.bin\""},
      {{{"model_dir", dir_.string()}}, "$.model_dir: \"" + dir_.string() + "\" is not an acoustic model folder"},
      {{{"dict", "/nonexistent.dict"}}, "$.dict: no readable dictionary file at \"/nonexistent.dict\""},
      {{{"sample_rate", 11025}}, "$.sample_rate: expected one of"},
      {{{"max_backlog_ms", 10}}, "$.max_backlog_ms"},
      {{{"keyword_threshold", 0}}, "$.keyword_threshold"},
      {{{"grammer", "typo.jsgf"}}, "$.grammer: unknown key"},
  };
  for (const auto &c : cases) {
    const std::string error = engines.stt_config_error(c.config);
    EXPECT_NE(error.find(c.expected), std::string::npos) << "config " << c.config.dump() << "\n  gave: " << error;
  }
}

}  // namespace
}  // namespace parley::providers::testing
