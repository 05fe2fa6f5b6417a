#!/usr/bin/env node
// Builds the cross-check reference for Parley's tokenizer with the npm package `tiktoken`:
//   OUTDIR/corpus.json                 [{"name": ..., "text": ...}, ...]
//   OUTDIR/expected-<encoding>.json    [[token ids of text 0], [ids of text 1], ...]
//   OUTDIR/unicode-probe.bin           see unicode-probe.js
//   OUTDIR/ranks-dir.txt               the folder holding <encoding>.json rank files
// The corpus is generated from a fixed seed, so every run compares the same texts.
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { Tiktoken } = require("tiktoken/lite");
const { corpus } = require("./corpus.js");

const outDir = process.argv[2];
if (!outDir) {
  console.error("usage: make-reference.js OUTDIR");
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

const texts = corpus();
fs.writeFileSync(path.join(outDir, "corpus.json"), JSON.stringify(texts));
for (const name of ["cl100k_base", "o200k_base"]) {
  const j = require(`tiktoken/encoders/${name}.json`);
  const enc = new Tiktoken(j.bpe_ranks, j.special_tokens, j.pat_str);
  const expected = texts.map((t) => Array.from(enc.encode_ordinary(t.text)));
  fs.writeFileSync(path.join(outDir, `expected-${name}.json`), JSON.stringify(expected));
  enc.free();
}
const ranksDir = path.dirname(require.resolve("tiktoken/encoders/cl100k_base.json"));
fs.writeFileSync(path.join(outDir, "ranks-dir.txt"), ranksDir);
execFileSync(process.execPath, [path.join(__dirname, "unicode-probe.js"), path.join(outDir, "unicode-probe.bin")],
             { stdio: "inherit" });
console.log(`make-reference: ${texts.length} texts, ${texts.reduce((n, t) => n + Buffer.byteLength(t.text), 0)} bytes -> ${outDir}`);
