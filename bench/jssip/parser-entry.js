// Bundled by scripts/bench.sh into parser.js (esbuild): JsSIP's own message
// parser, which the JsSIP bundle does not export, for the parse benchmark.
// It is the module JsSIP's Transport calls for every received frame.
window.JsSIPParser = require('jssip/lib/Parser');
window.JsSIPVersion = require('jssip/package.json').version;
