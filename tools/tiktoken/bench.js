#!/usr/bin/env node
// Measures the npm package `tiktoken` on the benchmark corpus and writes that corpus, so
// parley_budget_bench times exactly the same bytes in the same run (scripts/bench-budget).
//   bench.js CORPUS_OUT RESULT_JSON_OUT
"use strict";
const fs = require("fs");
const { Tiktoken } = require("tiktoken/lite");
const { corpus } = require("./corpus.js");

const [corpusOut, resultOut] = process.argv.slice(2);
if (!corpusOut || !resultOut) {
  console.error("usage: bench.js CORPUS_OUT RESULT_JSON_OUT");
  process.exit(2);
}
// Realistic text only: the pathological long runs are quadratic in tiktoken and would
// flatter Parley; they are benchmarked separately ("a" x 100,000).
const parts = corpus().filter((t) => /^(english|code|script|emoji|unicode)-/.test(t.name)).map((t) => t.text);
let text = parts.join("\n");
while (Buffer.byteLength(text) < 4 * 1024 * 1024) text += "\n" + text;
fs.writeFileSync(corpusOut, text);
const bytes = Buffer.byteLength(text);

const result = { bytes };
for (const name of ["cl100k_base", "o200k_base"]) {
  const j = require(`tiktoken/encoders/${name}.json`);
  const enc = new Tiktoken(j.bpe_ranks, j.special_tokens, j.pat_str);
  enc.encode_ordinary(text.slice(0, 100000));  // warm up
  const runs = [];
  let tokens = 0;
  for (let i = 0; i < 5; ++i) {
    const start = process.hrtime.bigint();
    tokens = enc.encode_ordinary(text).length;
    runs.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  runs.sort((a, b) => a - b);
  const median = runs[Math.floor(runs.length / 2)];
  result[name] = { seconds: median, mb_per_s: bytes / median / 1e6, tokens };
  enc.free();
}
fs.writeFileSync(resultOut, JSON.stringify(result));
