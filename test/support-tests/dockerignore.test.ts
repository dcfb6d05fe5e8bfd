// Proves test/support/dockerignore.ts on the examples of Docker's .dockerignore documentation and on
// the matcher's corner cases (anchoring at the root, parents, exceptions, `**`), so that the Dockerfile
// test can trust it to say what a build context holds.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { parseDockerignore } from '../support/dockerignore.js';

function check(patterns: string, excluded: readonly string[], included: readonly string[]): void {
  const ignore = parseDockerignore(patterns);
  for (const p of excluded) assert.ok(ignore.excludes(p), `${JSON.stringify(patterns)} excludes ${p}`);
  for (const p of included) assert.ok(!ignore.excludes(p), `${JSON.stringify(patterns)} keeps ${p}`);
}

test("Docker's documented examples", () => {
  check('*/temp*', ['somedir/temporary.txt', 'somedir/temp', 'somedir/temp/x'], ['temporary.txt', 'a/b/temp']);
  check('*/*/temp*', ['somedir/subdir/temporary.txt'], ['somedir/temporary.txt']);
  check('temp?', ['tempa', 'tempb'], ['temp', 'tempab']);
  check('**/*.go', ['a.go', 'x/y/z.go'], ['a.gox', 'go']);
  check('*.md\n!README.md', ['CHANGELOG.md'], ['README.md']);
  check('*.md\n!README*.md\nREADME-secret.md', ['README-secret.md', 'x.md'], ['README.md', 'README-x.md']);
});

test('patterns are anchored at the context root; a matched directory takes everything under it', () => {
  check('node_modules', ['node_modules', 'node_modules/a/index.js'], ['pkg/node_modules/a.js', 'node_modules2']);
  check('**/node_modules', ['node_modules/a.js', 'pkg/node_modules/a.js', 'a/b/node_modules'], ['xnode_modules']);
  check('/dist/', ['dist/main.js'], ['src/dist.ts']);
  check('./test/.tmp', ['test/.tmp/x/y'], ['test/a.test.ts']);
});

test('trailing and leading ** (prefix and suffix matches), classes and escapes', () => {
  check('dist/**', ['dist/a', 'dist/a/b'], ['distx', 'src/dist/a']);
  check('**.log', ['x.log', 'a/b.log'], ['x.logs']);
  check('a/**/b', ['a/b', 'a/x/b', 'a/x/y/b/c'], ['a/xb']);
  check('file[0-9].txt', ['file1.txt'], ['filea.txt']);
  check('\\*.txt', ['*.txt'], ['a.txt']);
  check('bench*.json', ['bench.json', 'bench-quick.json'], ['bench/main.ts']);
});

test('exceptions re-include, the last matching pattern decides', () => {
  check('docs\n!docs/keep.md', ['docs/other.md'], ['docs/keep.md']);
  check('*.json\n!package*.json\npackage-lock.json', ['package-lock.json', 'x.json'], ['package.json']);
});

test('comments start in the first column; blanks are trimmed', () => {
  check('# dist\n\n   \n  .env  ', ['.env'], ['dist/main.js']);
  check(' # not a comment', ['# not a comment'], ['dist']);
  check('\uFEFF.git', ['.git/HEAD'], []);
});
