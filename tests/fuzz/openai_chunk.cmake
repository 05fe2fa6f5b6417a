# OpenAI-compatible stream decoder fuzz target: parley_fuzz_openai_chunk, corpus in
# tests/fuzz/corpus/openai_chunk/. Every byte an LLM server (or whatever answers at its URL)
# streams reaches the SSE framing, the chunk JSON parser and the tool-call assembly.
parley_fuzz_target(openai_chunk MODULES providers)
