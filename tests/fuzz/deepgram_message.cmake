# Deepgram live-STT message parser fuzz target: parley_fuzz_deepgram_message, corpus in
# tests/fuzz/corpus/deepgram_message/ (Results, UtteranceEnd, SpeechStarted, Metadata, error bodies).
parley_fuzz_target(deepgram_message MODULES providers)
