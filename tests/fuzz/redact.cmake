parley_fuzz_target(redact MODULES core)
