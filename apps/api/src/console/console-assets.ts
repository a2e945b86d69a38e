import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export const CONSOLE_PATH = '/console';

/** Long-lived for files whose name carries their content hash: a new build gets new names. */
const HASHED_ASSET = 'public, max-age=31536000, immutable';
/** The page that names the current assets is checked on every load. */
const ENTRY_PAGE = 'no-cache';

/**
 * What the console's pages may load: only this origin's scripts, styles and API; no inline
 * script, no framing by other sites.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** The built console (`npm run build` writes it to dist/console), from the compiled API or its source. */
export function consoleBuildDir(from = __dirname): string | null {
  // up to the checkout (or image) root: the first folder with a package.json
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      const built = join(dir, 'dist', 'console');
      return existsSync(join(built, 'index.html')) ? built : null;
    }
  }
  return null;
}

/**
 * Serves the admin console's single-page app at /console/: static files only (it talks to
 * /graphql like any client, with the key the user types in), so they need no key; gzip and
 * brotli copies written at build time are sent to browsers that take them.
 */
export function mountConsole(app: NestFastifyApplication, root = consoleBuildDir()): void {
  const fastify = app.getHttpAdapter().getInstance();
  if (!root) {
    new Logger('console').warn(`no console build in dist/console: run npm run build to serve ${CONSOLE_PATH}`);
    return;
  }
  // not awaited: as in queue-dashboard.ts, awaiting register() boots Fastify's root early
  void fastify.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply) => {
      reply.headers(SECURITY_HEADERS);
    });
    // the page's asset URLs are absolute, but a bookmark of /console should find it
    scope.get(CONSOLE_PATH, (_request, reply) => reply.redirect(`${CONSOLE_PATH}/`, 301));
    await scope.register(fastifyStatic, {
      root,
      prefix: `${CONSOLE_PATH}/`,
      index: ['index.html'],
      preCompressed: true,
      // the reply is already decorated by Nest's adapter (and by Bull Board's copy of this plugin)
      decorateReply: false,
      cacheControl: false,
      setHeaders: (reply, path) => {
        reply.header('cache-control', path.includes(`${sep}assets${sep}`) ? HASHED_ASSET : ENTRY_PAGE);
      },
    });
  });
}
