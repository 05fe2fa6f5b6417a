parley_fuzz_target(tokenizer MODULES budget)
