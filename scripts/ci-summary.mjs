// Reads jest's --json results and prints the one plain line CI reads: `N passed, N failed`.
// Exits non-zero when the file is missing, when any test failed, or when no test ran.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2];
if (file === undefined || !existsSync(file)) {
  console.log('0 passed, 0 failed');
  console.error(
    `no jest results at ${file ?? '(no path given)'}: the build, typecheck, lint or format check failed first`,
  );
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const passed = r.numPassedTests ?? 0;
const failed = (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
if (failed > 0 || passed === 0) process.exit(1);
