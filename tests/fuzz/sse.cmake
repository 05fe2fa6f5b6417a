# SSE parser fuzz target: parley_fuzz_sse, corpus in tests/fuzz/corpus/sse/.
parley_fuzz_target(sse MODULES net)
