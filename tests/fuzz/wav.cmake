# WAV reader fuzz target: parley_fuzz_wav, corpus in tests/fuzz/corpus/wav/.
parley_fuzz_target(wav MODULES audio)
