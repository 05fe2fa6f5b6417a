'use strict';
// Loads the compiled addon: $PARLEY_NODE_ADDON, else build/Release (a source build), else
// prebuilds/<platform>-<arch> (the npm package). The addon finds libparley.so.0 in its own
// folder (rpath $ORIGIN).
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const candidates = [
  process.env.PARLEY_NODE_ADDON,
  path.join(root, 'build', 'Release', 'parley.node'),
  path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'parley.node'),
].filter(Boolean);

function load() {
  const tried = [];
  for (const file of candidates) {
    if (!fs.existsSync(file)) {
      tried.push(`${file} (missing)`);
      continue;
    }
    try {
      return { addon: require(file), file };
    } catch (error) {
      if (/cannot open shared object file/.test(error.message)) {
        error.message += `\n@parley/node: ${path.basename(file)} or libparley.so.0 needs a shared library that is ` +
          'not installed. On Debian 12: apt-get install libspdlog1.10 libfmt9 libsimdjson14 libsoxr0 libgomp1 libssl3';
      }
      throw error;
    }
  }
  throw new Error(
    `@parley/node: no compiled addon for ${process.platform}-${process.arch}; tried:\n  ${tried.join('\n  ')}\n` +
      'Build it with bindings/node/build.sh, or install a package with a prebuilt addon.');
}

const { addon, file } = load();
module.exports = addon;
module.exports.addonPath = file;
