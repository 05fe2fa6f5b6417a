# Scripted LLM flow engine fuzz target: parley_fuzz_scripted_flow, corpus in
# tests/fuzz/corpus/scripted_flow/. Callers' words (via STT) reach its matchers and slot
# extractors; flow files reach its validator.
parley_fuzz_target(scripted_flow MODULES providers)
target_compile_definitions(parley_fuzz_scripted_flow PRIVATE
  PARLEY_FLOW_DIR="${PROJECT_SOURCE_DIR}/examples/flows")
