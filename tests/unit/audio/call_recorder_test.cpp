#include "audio/call_recorder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "audio/wav.hpp"
#include "audio_test_support.hpp"

namespace parley::audio {
namespace {

using namespace std::chrono_literals;
using testing::amplitude_at;
using testing::channel_of;
using testing::expect_error;
using testing::TempPath;
using testing::tone;

constexpr int rate = 16000;
constexpr size_t frame = 320;  // 20 ms

struct Recording {
  std::vector<int16_t> caller;
  std::vector<int16_t> agent;
};

Recording read_back(const TempPath &path) {
  const WavAudio audio = read_wav_file(path.str());
  EXPECT_EQ(audio.format, (WavFormat{WavEncoding::pcm16, 2, rate}));
  return Recording{channel_of(audio.samples, 0, 2), channel_of(audio.samples, 1, 2)};
}

bool all_zero(std::span<const int16_t> samples) {
  return std::all_of(samples.begin(), samples.end(), [](int16_t s) { return s == 0; });
}

// Feeds `signal` to `channel` in 20 ms chunks with append().
void append_in_frames(CallRecorder &recorder, CallChannel channel, const std::vector<int16_t> &signal) {
  for (size_t offset = 0; offset < signal.size(); offset += frame) {
    recorder.append(channel, std::span(signal).subspan(offset, std::min(frame, signal.size() - offset)));
  }
}

TEST(audio_call_recorder, EachPartyLandsInItsOwnChannel) {
  TempPath path("channels.wav");
  const std::vector<int16_t> caller_tone = tone(440.0, rate, rate, 8000.0);
  const std::vector<int16_t> agent_tone = tone(1000.0, rate, rate, 8000.0);
  {
    CallRecorder recorder(path.str(), CallRecorderOptions{rate, 200ms});
    // Interleave arrivals as a live call would, each party in its own rhythm.
    for (size_t offset = 0; offset < caller_tone.size(); offset += frame) {
      recorder.append(CallChannel::caller, std::span(caller_tone).subspan(offset, frame));
      if (offset % (2 * frame) == 0) {
        recorder.append(CallChannel::agent, std::span(agent_tone).subspan(offset, std::min(2 * frame, agent_tone.size() - offset)));
      }
    }
    recorder.close();
  }
  const Recording recording = read_back(path);
  ASSERT_EQ(recording.caller.size(), static_cast<size_t>(rate));
  EXPECT_EQ(recording.caller, caller_tone);
  EXPECT_EQ(recording.agent, agent_tone);
  EXPECT_NEAR(amplitude_at(recording.caller, 440.0, rate), 8000.0, 10.0);
  EXPECT_LT(amplitude_at(recording.caller, 1000.0, rate), 1.0);
  EXPECT_NEAR(amplitude_at(recording.agent, 1000.0, rate), 8000.0, 10.0);
  EXPECT_LT(amplitude_at(recording.agent, 440.0, rate), 1.0);
}

TEST(audio_call_recorder, GapsAreSilent) {
  TempPath path("gaps.wav");
  const std::vector<int16_t> burst = tone(500.0, rate, rate / 4, 6000.0);
  {
    CallRecorder recorder(path.str(), CallRecorderOptions{rate, 2000ms});
    recorder.write_at(CallChannel::caller, 0, burst);
    recorder.write_at(CallChannel::caller, rate, burst);              // 0.25 .. 1 s is a gap
    recorder.write_at(CallChannel::agent, rate / 2, burst);           // agent only in 0.5 .. 0.75 s
    EXPECT_EQ(recorder.late_samples_dropped(), 0u);
    recorder.close();
  }
  const Recording recording = read_back(path);
  ASSERT_EQ(recording.caller.size(), static_cast<size_t>(rate + rate / 4));
  const std::span<const int16_t> caller(recording.caller);
  const std::span<const int16_t> agent(recording.agent);
  EXPECT_TRUE(std::equal(burst.begin(), burst.end(), caller.begin()));
  EXPECT_TRUE(all_zero(caller.subspan(rate / 4, rate - rate / 4)));
  EXPECT_TRUE(std::equal(burst.begin(), burst.end(), caller.begin() + rate));
  EXPECT_TRUE(all_zero(agent.first(rate / 2)));
  EXPECT_TRUE(std::equal(burst.begin(), burst.end(), agent.begin() + rate / 2));
  EXPECT_TRUE(all_zero(agent.subspan(rate / 2 + rate / 4)));
}

TEST(audio_call_recorder, OverlappingAudioIsMixedWithSaturation) {
  TempPath path("overlap.wav");
  {
    CallRecorder recorder(path.str(), CallRecorderOptions{rate});
    recorder.write_at(CallChannel::agent, 0, std::vector<int16_t>(100, 20000));
    recorder.write_at(CallChannel::agent, 50, std::vector<int16_t>(100, 20000));
    recorder.write_at(CallChannel::agent, 120, std::vector<int16_t>(10, -30000));
    recorder.close();
  }
  const Recording recording = read_back(path);
  ASSERT_EQ(recording.agent.size(), 150u);
  EXPECT_EQ(recording.agent[49], 20000);
  EXPECT_EQ(recording.agent[50], 32767);
  EXPECT_EQ(recording.agent[99], 32767);
  EXPECT_EQ(recording.agent[100], 20000);
  EXPECT_EQ(recording.agent[125], -10000);
  EXPECT_TRUE(all_zero(recording.caller));
}

TEST(audio_call_recorder, StreamsToDiskWithBoundedMemory) {
  TempPath path("streaming.wav");
  CallRecorder recorder(path.str(), CallRecorderOptions{rate, 100ms});
  const std::vector<int16_t> speech = tone(300.0, rate, 3 * rate, 4000.0);
  append_in_frames(recorder, CallChannel::caller, speech);
  // Everything but the last 100 ms is already in the file.
  EXPECT_EQ(recorder.frames_on_disk(), speech.size() - rate / 10);
  EXPECT_EQ(recorder.end_sample(), speech.size());
  recorder.close();
  EXPECT_EQ(read_back(path).caller, speech);
}

TEST(audio_call_recorder, AudioOlderThanTheWindowIsDroppedAndCounted) {
  TempPath path("late.wav");
  {
    CallRecorder recorder(path.str(), CallRecorderOptions{rate, 100ms});
    recorder.write_at(CallChannel::agent, 0, std::vector<int16_t>(rate, 1000));  // 1 s: window now at 0.9 s
    recorder.write_at(CallChannel::caller, 14000, std::vector<int16_t>(1000, 7));  // 400 samples too late
    EXPECT_EQ(recorder.late_samples_dropped(), 400u);
    recorder.close();
  }
  const Recording recording = read_back(path);
  EXPECT_TRUE(all_zero(std::span(recording.caller).first(14400)));
  EXPECT_EQ(recording.caller[14400], 7);
  EXPECT_EQ(recording.caller[14999], 7);
}

TEST(audio_call_recorder, ChunkLongerThanTheWindowIsKeptWhole) {
  TempPath path("long_chunk.wav");
  const std::vector<int16_t> long_chunk = tone(200.0, rate, rate, 3000.0);
  {
    CallRecorder recorder(path.str(), CallRecorderOptions{rate, 50ms});
    recorder.write_at(CallChannel::caller, 100, long_chunk);
    EXPECT_EQ(recorder.late_samples_dropped(), 0u);
    recorder.close();
  }
  const Recording recording = read_back(path);
  ASSERT_EQ(recording.caller.size(), 100 + long_chunk.size());
  EXPECT_TRUE(std::equal(long_chunk.begin(), long_chunk.end(), recording.caller.begin() + 100));
}

TEST(audio_call_recorder, WriteNowFollowsTheClockAcrossPauses) {
  TempPath path("clock.wav");
  std::chrono::nanoseconds now{0};
  const std::vector<int16_t> chunk(frame, 500);
  {
    CallRecorder recorder(path.str(), CallRecorderOptions{rate, 2000ms, 100ms}, [&] { return now; });
    recorder.write_now(CallChannel::caller, chunk);  // at 0
    // Agent audio sent faster than real time stays contiguous, ahead of the clock.
    for (int i = 0; i < 10; ++i) recorder.write_now(CallChannel::agent, chunk);
    EXPECT_EQ(recorder.channel_end(CallChannel::agent), 10 * frame);
    now = 23ms;  // a little jitter: still contiguous
    recorder.write_now(CallChannel::caller, chunk);
    EXPECT_EQ(recorder.channel_end(CallChannel::caller), 2 * frame);
    now = 1000ms;  // the caller's stream paused: resume at the clock
    EXPECT_EQ(recorder.now_sample(), static_cast<uint64_t>(rate));
    recorder.write_now(CallChannel::caller, chunk);
    EXPECT_EQ(recorder.channel_end(CallChannel::caller), rate + frame);
    recorder.close();
  }
  const Recording recording = read_back(path);
  const std::span<const int16_t> caller(recording.caller);
  const std::span<const int16_t> agent(recording.agent);
  ASSERT_EQ(caller.size(), rate + frame);
  auto is_tone = [](int16_t s) { return s == 500; };
  EXPECT_TRUE(std::all_of(caller.begin(), caller.begin() + 2 * frame, is_tone));
  EXPECT_TRUE(all_zero(caller.subspan(2 * frame, rate - 2 * frame)));
  EXPECT_TRUE(std::all_of(caller.begin() + rate, caller.end(), is_tone));
  EXPECT_TRUE(std::all_of(agent.begin(), agent.begin() + 10 * frame, is_tone));
  EXPECT_TRUE(all_zero(agent.subspan(10 * frame)));
}

TEST(audio_call_recorder, CloseIsIdempotentAndEndsWriting) {
  TempPath path("close.wav");
  CallRecorder recorder(path.str());
  recorder.append(CallChannel::caller, std::vector<int16_t>(10, 1));
  recorder.close();
  recorder.close();
  expect_error([&] { recorder.append(CallChannel::agent, std::vector<int16_t>(10, 1)); }, Status::state,
               "already closed");
  EXPECT_EQ(read_back(path).caller.size(), 10u);
}

TEST(audio_call_recorder, EmptyRecordingIsAValidFile) {
  TempPath path("empty.wav");
  { CallRecorder recorder(path.str()); }
  EXPECT_TRUE(read_back(path).caller.empty());
}

TEST(audio_call_recorder, RejectsBadOptionsAndPositions) {
  TempPath path("bad.wav");
  expect_error([&] { CallRecorder(path.str(), CallRecorderOptions{0}); }, Status::invalid_argument, "sample rate 0");
  expect_error([&] { CallRecorder(path.str(), CallRecorderOptions{rate, 0ms}); }, Status::invalid_argument,
               "window of 0 ms");
  expect_error([] { CallRecorder("/nonexistent/dir/call.wav"); }, Status::io, "cannot create");
  CallRecorder recorder(path.str());
  expect_error([&] { recorder.write_at(CallChannel::caller, uint64_t{1} << 40, std::vector<int16_t>(1)); },
               Status::full, "past what a stereo PCM16 WAV can hold");
}

}  // namespace
}  // namespace parley::audio
