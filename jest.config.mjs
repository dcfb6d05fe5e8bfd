// Jest 30 over the project's ESM TypeScript (recipe: ../shared/reference/toolchain.md).
// @swc/jest strips types only; `npm test` runs `tsc --noEmit` first for the type check.
// Two projects: `unit` (in-process, loopback HTTP) and `e2e` (child processes, real
// Prometheus/promtool, long sweeps). Select one with `npm test -- --selectProjects unit`.

const E2E = [
  '<rootDir>/test/e2e/',
  '<rootDir>/test/ops/',
  '<rootDir>/test/support-tests/prometheus.test.ts',
  '<rootDir>/test/http/bad-input-sweep.test.ts',
  '<rootDir>/test/telemetry/prometheus-scrape.test.ts',
  '<rootDir>/test/sim/cli.test.ts',
];

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
};

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...shared, displayName: 'unit', testPathIgnorePatterns: ['/node_modules/', ...E2E] },
    {
      ...shared,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testMatch: E2E.map((p) => (p.endsWith('/') ? `${p}**/*.test.ts` : p)),
    },
  ],
  // Each test file brings its own servers; slow ones (real Prometheus, child processes) need minutes.
  testTimeout: 180_000,
  // Two workers on the two-core machine, as node's runner had (--test-concurrency=2).
  maxWorkers: 2,
  coverageProvider: 'v8',
  collectCoverageFrom: ['src/**/*.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
};
