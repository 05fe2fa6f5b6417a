parley_fuzz_target(runtime_config MODULES core)
