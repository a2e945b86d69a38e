// One jest run for everything: unit specs next to the code, integration specs against the
// machine's Postgres/Redis, and e2e specs under test/. The global setup creates a database and
// picks a Redis db index of the tests' own, so a running demo's data is never touched.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      target: 'es2022',
    },
  },
];
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  testRegex: '.*\\.(spec|int-spec|e2e-spec)\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Nest 12 ships ES modules only: see test/esm-to-cjs.transform.js
  transform: { '^.+\\.ts$': swc, '^.+\\.m?js$': '<rootDir>/test/esm-to-cjs.transform.js' },
  // CommonJS already: the browser tests' driver and axe-core (whose bundle reads top-level `this`, which a module transform would break)
  transformIgnorePatterns: ['/node_modules/(playwright-core|axe-core|@axe-core/playwright)/'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^@app/([a-z-]+)(/.*)?$': '<rootDir>/libs/$1/src$2' },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  setupFiles: ['<rootDir>/test/env.ts'],
  testTimeout: 60000,
};
