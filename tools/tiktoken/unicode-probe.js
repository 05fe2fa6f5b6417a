#!/usr/bin/env node
// Asks the reference encoder which code points its split regex takes as \p{N} and which as
// letters-or-marks, by probing contexts where the class decides a token boundary:
//   cl100k_base: "1" X "23"  ends in the token "3" only if X is \p{N} (digits group by three);
//   o200k_base:  X "'s", X "'t" end in the token "'s" / "'t" only if X is a letter or a mark
//                (the contraction joins a word; after punctuation the apostrophe joins X
//                instead). Two contexts, because BPE can merge a letter with the apostrophe.
// Writes one byte per code point (bit 0: N, bit 1: letter-or-mark) to the file named on the
// command line; the C++ cross-check compares it with src/budget/unicode_classes.inc.
"use strict";
const fs = require("fs");
const { Tiktoken } = require("tiktoken/lite");

function encoder(name) {
  const j = require(`tiktoken/encoders/${name}.json`);
  return new Tiktoken(j.bpe_ranks, j.special_tokens, j.pat_str);
}

const out = process.argv[2];
if (!out) {
  console.error("usage: unicode-probe.js OUTPUT_FILE");
  process.exit(2);
}
const cl100k = encoder("cl100k_base");
const o200k = encoder("o200k_base");
const three = cl100k.encode_ordinary("3");
const contractions = ["'s", "'t"].map((c) => [c, o200k.encode_ordinary(c)]);
if (three.length !== 1 || contractions.some(([, t]) => t.length !== 1)) throw new Error("unexpected reference vocabulary");
const flags = Buffer.alloc(0x110000);
for (let cp = 0; cp < 0x110000; ++cp) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const x = String.fromCodePoint(cp);
  const a = cl100k.encode_ordinary("1" + x + "23");
  let f = 0;
  if (a[a.length - 1] === three[0]) f |= 1;
  for (const [c, t] of contractions) {
    const b = o200k.encode_ordinary(x + c);
    if (b[b.length - 1] === t[0]) f |= 2;
  }
  flags[cp] = f;
}
fs.writeFileSync(out, flags);
cl100k.free();
o200k.free();
