# ElevenLabs server-message parsers fuzz target: parley_fuzz_elevenlabs_message, corpus in
# tests/fuzz/corpus/elevenlabs_message/. Stream-input TTS and Scribe STT messages, and REST
# error bodies, all come from the network.
parley_fuzz_target(elevenlabs_message MODULES providers)
