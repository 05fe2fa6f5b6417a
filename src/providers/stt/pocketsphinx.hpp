// The local STT: pocketsphinx (libpocketsphinx 0.8 "5prealpha") with the en-us model, no
// network and no key.
//
//   {"provider":"pocketsphinx", "grammar":"examples/grammars/appointment.jsgf"}
//   {"provider":"pocketsphinx", "jsgf":"#JSGF V1.0; grammar g; public <a> = yes | no;"}
//   {"provider":"pocketsphinx", "keywords":"operator, cancel my order /1e-30/"}
//   {"provider":"pocketsphinx"}                      (the en-us language model)
//
// At most one of grammar (a JSGF file), jsgf (JSGF text) and keywords; without any of them
// the decoder uses the language model "lm". Other keys: model_dir (the acoustic model
// folder), dict (the pronunciation dictionary), lm, sample_rate (of the audio pushed; other
// rates than 16000 are resampled to the model's 16 kHz), keyword_threshold (1e-40, for
// keywords without their own), max_backlog_ms (3000: audio held while the decoder is behind,
// see below), partial_interval_ms (200; 0: no partial transcripts).
//
// The en-us model is wideband: 8 kHz telephone audio, upsampled, loses about half its
// phrases to misrecognition until pocketsphinx's cepstral mean has adapted (it does at the
// end of each utterance); 16 kHz and higher-rate audio is heard well.
//
// keywords is one string for now (ConfigReader reads no arrays): phrases separated by commas
// or newlines, each optionally followed by pocketsphinx's "/threshold/". Long phrases need
// lower thresholds (1e-40 and below), short ones higher (1e-10).
//
// What the stream delivers:
// - on_speech_started when pocketsphinx's voice activity detector enters speech;
// - non-final transcripts of the current hypothesis while speech goes on, at most one per
//   partial_interval_ms of audio, and only when it changed (grammar and lm);
// - a final (is_final, speech_final) when the detector leaves speech (about 0.5 s of
//   silence), unless nothing was recognised, and at every finalize(), even an empty one;
// - with keywords, each keyword as a final (speech_final false) as soon as it is spotted.
// A grammar or keyword word missing from the dictionary is a fatal ProviderError at start.
//
// Decoding runs on the worker pool in batches of at most 200 ms of audio, one batch in
// flight per stream, so a stream never holds a worker for long. Audio waits in a backlog of
// max_backlog_ms; when the decoder falls that far behind, the oldest audio is dropped and a
// non-fatal ProviderError says so. Loading a decoder (acoustic model and dictionary) takes
// about 0.1 s, and a language model 0.2 s more, so finished streams return theirs to a
// process-wide pool (at most 4 idle per model and dictionary), and a stream takes one from
// it on a worker at start() while its first audio waits in the backlog. A pooled decoder
// starts each stream nearly as a freshly loaded one does: with the model's initial cepstral
// mean and a fresh noise estimate.
#pragma once

namespace parley::providers {

class Registry;

/// Registers the "pocketsphinx" STT.
void register_pocketsphinx(Registry &registry);

}  // namespace parley::providers
