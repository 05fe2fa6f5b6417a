# Azure Speech response parsers fuzz target: parley_fuzz_azure_message, corpus in
# tests/fuzz/corpus/azure_message/ (short-audio recognition results, error bodies), plus
# the SSML escaper the same bytes are fed to.
parley_fuzz_target(azure_message MODULES providers)
