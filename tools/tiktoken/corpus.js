// The cross-check and benchmark corpus: English, code, CJK, emoji, other scripts, long
// whitespace runs, long runs with no spaces, and random strings over an alphabet chosen to
// hit every branch of the split patterns. Deterministic (fixed-seed PRNG).
"use strict";

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;  // mulberry32
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ("the of and to in is you that it he was for on are as with his they I at be this have from or " +
  "one had by word but not what all were we when your can said there use an each which she do how their if will " +
  "up other about out many then them these so some her would make like him into time has look two more write go " +
  "see number no way could people my than first water been call who oil its now find long down day did get come " +
  "made may part appointment reschedule pharmacy prescription insurance representative unfortunately Thursday " +
  "customer account balance transfer verification Okay Sure Actually McDonald's OpenAI JavaScript HTTP URLs").split(" ");
const CONTRACTIONS = ["don't", "I'm", "you're", "we've", "she'll", "he'd", "it's", "DON'T", "I'M", "YOU'RE",
  "They'Ll", "it'S", "O'Neil", "rock'n'roll", "'tis", "''quoted''"];

function english(r, sentences) {
  const out = [];
  for (let s = 0; s < sentences; ++s) {
    const n = 4 + Math.floor(r() * 14);
    const words = [];
    for (let i = 0; i < n; ++i) {
      const x = r();
      if (x < 0.08) words.push(CONTRACTIONS[Math.floor(r() * CONTRACTIONS.length)]);
      else if (x < 0.12) words.push(String(Math.floor(r() * 100000)));
      else words.push(WORDS[Math.floor(r() * WORDS.length)]);
    }
    words[0] = words[0][0].toUpperCase() + words[0].slice(1);
    out.push(words.join(r() < 0.1 ? ", " : " ") + [".", "?", "!", "...", ":"][Math.floor(r() * 5)]);
  }
  return out.join(r() < 0.2 ? "\n\n" : " ");
}

const CODE = [
  `#include <vector>\nint main(int argc, char **argv) {\n    std::vector<int> v{1, 2, 3};\n    for (auto x : v) {\n\t\tprintf("%d\\n", x * 42);\n    }\n    return argc > 1 ? 0 : -1;\n}\n`,
  `def fibonacci(n: int) -> list[int]:\n    """Return the first n numbers."""\n    a, b = 0, 1\n    out = []\n    while len(out) < n:\n        out.append(a)\n        a, b = b, a + b\n    return out  # 0x1F, 1e-9\n\n\n`,
  `{"messages": [{"role": "system", "content": "You are a helpful voice agent."}, {"role": "user", "content": "What's my balance?"}], "temperature": 0.2, "tools": []}`,
  `SELECT u.id, COUNT(*) AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id WHERE u.created_at >= '2024-01-01' GROUP BY u.id HAVING n > 10;\r\n`,
  `const re = /^(?:[a-z0-9!#$%&'*+/=?^_\`{|}~-]+)@example\\.com$/i; // path/to/file.ts\nexport async function* gen() { yield* [1,2,3]; }\n`,
  `    if (x) {\n        return;\n    }\n\n\n    \n  // trailing   \n\t\t\t\n`,
];

const SCRIPTS = [
  "你好，世界！今天天气怎么样？我想预约明天下午三点的门诊。",
  "日本語のテキストです。カタカナとひらがな、そして漢字が混ざっています。１２３４５",
  "안녕하세요. 예약을 변경하고 싶습니다. 감사합니다!",
  "Привет, как дела? Я хотел бы перенести встречу на ЧЕТВЕРГ.",
  "Ελληνικά: Καλημέρα σας, ΚΑΛΗΜΈΡΑ.",
  "مرحبا، كيف حالك؟ أريد حجز موعد.",
  "नमस्ते, आप कैसे हैं? मुझे डॉक्टर से मिलना है।",
  "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
  "עברית: שלום עולם",
  "Ǆemal ǅemal džemal — ﬁne ﬂow Ⅻ ½ ² ⁴ ᵃ ʰ",
  "e\u0301te\u0301 cafe\u0301 a\u0308\u0308\u0308 Z\u0335\u0321a\u0336l\u0337g\u0338o",
];

const EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "🏳️‍🌈", "❤️", "🤖", "✅", "🔥🔥🔥", "1️⃣", "🫠"];

// Representatives of every class the patterns distinguish.
const ALPHABET = [" ", " ", " ", "\t", "\n", "\r", "\r\n", "\u000b", "\u00a0", "\u3000", "\u0085", "\u2028",
  "a", "b", "s", "t", "r", "e", "v", "m", "l", "d", "S", "T", "R", "E", "L", "D", "M", "Z", "é", "É", "ſ", "ǅ",
  "ʰ", "中", "文", "か", "\u0301", "\u093e", "\u20dd", "1", "2", "9", "½", "Ⅻ", "٣", "'", "'", "'", "!", ".",
  "/", "/", "-", "_", "<", "|", ">", "😀", "\u200d", "\ufe0f", "ß", "İ", "ǈ", "ᾈ", "\u0000", "\u007f"];

function randomString(r, length) {
  let s = "";
  for (let i = 0; i < length; ++i) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

function randomUnicode(r, length) {
  let s = "";
  while (s.length < length) {
    const plane = r();
    let cp = plane < 0.6 ? Math.floor(r() * 0x3000) : plane < 0.9 ? Math.floor(r() * 0x10000) : Math.floor(r() * 0x30000);
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
    s += String.fromCodePoint(cp);
    if (r() < 0.2) s += " ";
  }
  return s;
}

function corpus() {
  const r = rng(20240611);
  const texts = [];
  const add = (name, text) => texts.push({ name, text });
  for (let i = 0; i < 40; ++i) add(`english-${i}`, english(r, 1 + Math.floor(r() * 12)));
  CODE.forEach((c, i) => add(`code-${i}`, c));
  SCRIPTS.forEach((c, i) => add(`script-${i}`, c));
  for (let i = 0; i < 10; ++i) {
    let s = "";
    for (let k = 0; k < 30; ++k) s += r() < 0.5 ? EMOJI[Math.floor(r() * EMOJI.length)] : WORDS[Math.floor(r() * WORDS.length)] + (r() < 0.5 ? " " : "");
    add(`emoji-${i}`, s);
  }
  add("spaces-10000", " ".repeat(10000));
  add("spaces-then-word", " ".repeat(5000) + "word" + "\t".repeat(300) + "\n".repeat(200) + " \n \n\t\r\n" + " ".repeat(1000));
  add("mixed-whitespace", Array.from({ length: 4000 }, () => [" ", "\t", "\n", "\r\n", "\u3000"][Math.floor(r() * 5)]).join(""));
  add("no-spaces-letters", "a".repeat(10000));
  add("no-spaces-word-repeat", "voice".repeat(2000));
  add("no-spaces-punct", "!?".repeat(3000) + "=".repeat(2000));
  add("no-spaces-digits", "0123456789".repeat(500));
  add("no-spaces-cjk", "语音代理运行时".repeat(700));
  add("no-spaces-base64", Buffer.from(Array.from({ length: 6000 }, () => Math.floor(r() * 256))).toString("base64"));
  add("no-spaces-mixed-case", "camelCaseIdentifierWithHTTPAndURLs".repeat(200));
  add("special-token-text", "<|endoftext|> is ordinary text here <|fim_prefix|><|endofprompt|>");
  for (let i = 0; i < 3000; ++i) add(`random-${i}`, randomString(r, 1 + Math.floor(r() * 24)));
  for (let i = 0; i < 40; ++i) add(`unicode-${i}`, randomUnicode(r, 200));
  return texts;
}

module.exports = { corpus };
