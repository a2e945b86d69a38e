// Nest 12 and a few of its dependencies ship ES modules only, and jest cannot require() them before
// Node 24.9. This transformer turns such files into CommonJS with swc and leaves every other file
// of node_modules untouched (most are CommonJS already), so the cost stays small and cached.
const { transformSync } = require('@swc/core');

const ESM_SYNTAX = /^\s*(import\s*[\w{*'"]|export\s)/m;
// CommonJS packages that import() an ES module (mercurius -> quick-lru) need it turned into require()
const DYNAMIC_IMPORT = /\bimport\s*\(/;

module.exports = {
  getCacheKey(source, filename) {
    return require('node:crypto')
      .createHash('sha1')
      .update('esm-to-cjs-v2')
      .update(filename)
      .update(source)
      .digest('hex');
  },
  process(source, filename) {
    if (!ESM_SYNTAX.test(source) && !DYNAMIC_IMPORT.test(source)) return { code: source };
    const { code, map } = transformSync(source, {
      filename,
      sourceMaps: true,
      jsc: { parser: { syntax: 'ecmascript', importAttributes: true }, target: 'es2022' },
      module: { type: 'commonjs', ignoreDynamic: false },
    });
    return { code, map };
  },
};
