'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { parley } = require('./helpers');

test('the loaded library is the version the addon was compiled against', () => {
  const version = parley.version();
  assert.match(version, /^\d+\.\d+\.\d+$/);
  assert.equal(version, parley.headerVersion);
  const { major, minor, patch } = parley.versionNumbers();
  assert.equal(`${major}.${minor}.${patch}`, version);
});

test('the package version is the repository VERSION', () => {
  const repoVersion = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'VERSION'), 'utf8').trim();
  assert.equal(parley.version(), repoVersion);
  assert.equal(require('../package.json').version, repoVersion);
});

test('the addon finds libparley.so.0 next to itself ($ORIGIN), not through the environment', () => {
  const maps = fs.readFileSync('/proc/self/maps', 'utf8');
  const lib = maps.split('\n').map((line) => line.split(/\s+/)[5]).find((file) => file && /libparley\.so/.test(file));
  assert.ok(lib, 'libparley is mapped');
  assert.equal(path.dirname(fs.realpathSync(lib)), path.dirname(fs.realpathSync(parley.addonPath)));
});

test('selftest round-trips the codecs', () => {
  const report = parley.selftest();
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.ok(report.checks.length > 0);
});

test('status and event constants match the C ABI', () => {
  assert.equal(parley.Status.PARLEY_ECONFIG, -2);
  assert.equal(parley.Status.PARLEY_EFULL, -13);
  assert.equal(parley.EventType.DTMF, 14);
  assert.equal(parley.EventType.AUDIO_CLEAR, 19);
});
