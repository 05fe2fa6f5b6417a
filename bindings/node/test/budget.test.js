'use strict';
// The budget controller used standalone (no runtime).
const test = require('node:test');
const assert = require('node:assert/strict');
const { parley, expectParleyError } = require('./helpers');

function conversation(turns) {
  const messages = [{ role: 'system', content: 'You are a helpful agent.' }];
  for (let t = 0; t < turns; t++) {
    messages.push({ role: 'user', content: `Tell me about the weather in city number ${t}, in detail, with many words so that it costs tokens.` });
    messages.push({ role: 'assistant', content: `It is sunny in city ${t} and the temperature is pleasant for the whole afternoon.` });
  }
  messages.push({ role: 'user', content: 'And tomorrow?' });
  return messages;
}

test('budget: prepare, record TTFT, stats, report, tokens, model selection', () => {
  const budget = new parley.Budget({ target_ms: 800, model: 'gpt-4o-mini' });
  const messages = conversation(3);
  const sent = budget.prepare(messages);
  assert.deepEqual(sent, messages, 'under the target nothing is compressed');
  assert.deepEqual(budget.prepare(JSON.stringify(messages)), messages);
  budget.recordTtft(250);
  budget.recordTtft(300, 120);
  const stats = budget.stats();
  assert.match(stats.model, /gpt-4o-mini/);
  assert.equal(stats.samples, 2);
  assert.equal(stats.engaged, false);
  assert.equal(typeof stats.tokenizer.exact, 'boolean');
  const report = budget.report();
  assert.equal(typeof report, 'object');
  const text = budget.report('text');
  assert.match(text, /turns\s+2/);
  assert.ok(budget.countTokens('hello world') >= 2);
  assert.equal(budget.countTokens(''), 0);
  budget.selectModel('groq', 'llama-3.1-8b');
  assert.match(budget.stats().model, /llama-3\.1-8b/);
  budget.selectModel('openai');
  budget.close();
  assert.equal(budget.closed, true);
});

test('budget: compression and violation callbacks fire synchronously; pinned messages survive', () => {
  const budget = new parley.Budget({
    target_ms: 100, statistics: { min_samples: 4 }, min_budget_tokens: 16,
    strategies: { sliding_window: { keep_recent_messages: 2 } },
  });
  const compressions = [];
  const violations = [];
  budget.on('compression', (event) => compressions.push(event));
  budget.on('violation', (event) => violations.push(event));
  let sent = null;
  for (let t = 0; t < 12; t++) {
    const messages = conversation(t);
    messages[1].pinned = true;
    sent = budget.prepare(messages);
    budget.recordTtft(500 + t * 50);
  }
  assert.ok(violations.some((event) => event.kind === 'ttft_over_target'), JSON.stringify(violations.slice(0, 2)));
  assert.ok(compressions.some((event) => event.action === 'compress'), JSON.stringify(compressions.slice(0, 2)));
  assert.ok(sent.length < conversation(11).length, 'the last turn was compressed');
  assert.equal(sent[0].role, 'system');
  assert.ok(sent.some((message) => message.content === conversation(11)[1].content), 'the pinned message was kept');
  assert.ok(sent.every((message) => !('pinned' in message)), 'pinned is stripped');
  assert.equal(budget.stats().engaged, true);
  budget.close();
});

test('budget: an exception in a callback is rethrown by the call that ran it', () => {
  const budget = new parley.Budget({ target_ms: 100, statistics: { min_samples: 3 } });
  budget.on('violation', () => {
    throw new Error('listener failed');
  });
  budget.prepare(conversation(1));
  assert.throws(() => budget.recordTtft(5000), /listener failed/);
  // The controller still works afterwards.
  budget.removeAllListeners('violation');
  budget.prepare(conversation(1));
  budget.recordTtft(5000);
  budget.close();
});

test('budget: embedder and summarizer callbacks', () => {
  const budget = new parley.Budget({
    target_ms: 100, statistics: { min_samples: 3 }, min_budget_tokens: 16,
    strategies: { relevance: { enabled: true, scorer: 'embeddings' }, summary: { enabled: true, min_messages: 2 } },
  });
  let embedded = 0;
  const requests = [];
  budget.setEmbedder((text) => {
    embedded++;
    assert.throws(() => budget.stats(), (error) => error.status === 'PARLEY_ESTATE');
    const vector = new Float32Array(8);
    for (let i = 0; i < text.length; i++) vector[i % 8] += text.charCodeAt(i) / 1000;
    return vector;
  });
  budget.setSummarizer((requestId, messages) => {
    assert.ok(Array.isArray(messages));
    requests.push(requestId);
  });
  for (let t = 0; t < 10; t++) {
    budget.prepare(conversation(t));
    budget.recordTtft(800 + t * 100);
  }
  assert.ok(embedded > 0, 'embedder called');
  assert.ok(requests.length > 0, 'summarizer called');
  const last = requests[requests.length - 1];
  budget.provideSummary(last, 'The caller asked about the weather in many cities.');
  assert.throws(() => budget.provideSummary(last, 'again'), (error) => error.status === 'PARLEY_ENOTFOUND');
  assert.throws(() => budget.provideSummary(123456789, 'x'), (error) => error.status === 'PARLEY_ENOTFOUND');
  assert.throws(() => budget.provideSummary(-1, 'x'), TypeError);
  budget.setEmbedder(null);
  budget.setSummarizer(null);
  budget.prepare(conversation(10));
  budget.close();
});

test('budget: bad input is a ParleyError with the engine message; closed handles never crash', async () => {
  await expectParleyError(() => new parley.Budget({ target_ms: 0 }), 'PARLEY_ECONFIG', /\$\.target_ms/);
  await expectParleyError(() => new parley.Budget({ strategies: { nope: {} } }), 'PARLEY_ECONFIG', /\$\.strategies\.nope/);
  await expectParleyError(() => new parley.Budget('{'), 'PARLEY_ECONFIG');
  const budget = new parley.Budget(null);
  await expectParleyError(() => budget.prepare('not json'), 'PARLEY_EFORMAT');
  await expectParleyError(() => budget.prepare([{ role: 'assistant', content: null, tool_calls: [{ id: 5 }] }]), 'PARLEY_EFORMAT', /\$\[0\]\.tool_calls\[0\]\.id/);
  await expectParleyError(() => budget.prepare([{ role: 'alien', content: 'x' }]), 'PARLEY_EFORMAT', /\$\[0\]\.role/);
  await expectParleyError(() => budget.prepare(null), 'PARLEY_EINVAL', /must not be NULL/);
  await expectParleyError(() => budget.recordTtft(-1), 'PARLEY_EINVAL');
  await expectParleyError(() => budget.recordTtft(Number.NaN), 'PARLEY_EINVAL');
  await expectParleyError(() => budget.recordTtft(10), 'PARLEY_ESTATE');
  await expectParleyError(() => budget.recordTtft(10, -2), 'PARLEY_EINVAL');
  await expectParleyError(() => budget.report(7), 'PARLEY_EINVAL');
  await expectParleyError(() => budget.selectModel(''), 'PARLEY_EINVAL');
  await expectParleyError(() => budget.selectModel(null), 'PARLEY_EINVAL');
  await expectParleyError(() => budget.countTokens(null), 'PARLEY_EINVAL');
  assert.throws(() => budget.countTokens(42), TypeError);
  assert.throws(() => budget.report('xml'), TypeError);
  budget.close();
  await expectParleyError(() => budget.close(), 'PARLEY_ESTATE', /budget is closed/);
  await expectParleyError(() => budget.prepare([]), 'PARLEY_ESTATE', /budget is closed/);
  await expectParleyError(() => budget.stats(), 'PARLEY_ESTATE', /budget is closed/);
  await expectParleyError(() => budget.countTokens('x'), 'PARLEY_ESTATE', /budget is closed/);
});

test('budget: closing from inside its own callback is refused', () => {
  const budget = new parley.Budget({ target_ms: 100, statistics: { min_samples: 3 } });
  let refused = null;
  budget.on('violation', () => {
    try {
      budget.close();
    } catch (error) {
      refused = error;
    }
  });
  budget.prepare(conversation(1));
  budget.recordTtft(5000);
  assert.ok(refused instanceof parley.ParleyError);
  assert.equal(refused.status, 'PARLEY_ESTATE');
  budget.close();
});
