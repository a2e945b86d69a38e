import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const OUT_DIR = resolve(import.meta.dirname, '../../dist/console');

/**
 * Writes file.gz and file.br beside each built script, style and page, which the API serves to
 * browsers that accept them (@fastify/static's preCompressed). Fifteen lines of node:zlib rather
 * than a plugin package: the build's only compression step, run once per build.
 */
function precompress(): Plugin {
  return {
    name: 'recoder-precompress',
    apply: 'build',
    writeBundle(_options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css|html|svg)$/.test(name)) continue;
        const file = join(OUT_DIR, name);
        const body = readFileSync(file);
        writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
        writeFileSync(`${file}.br`, brotliCompressSync(body));
      }
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  // the API serves the build under /console/
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    // content-hashed names under assets/: cached for a year, since a new build gets new names
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
  plugins: [precompress()],
});
