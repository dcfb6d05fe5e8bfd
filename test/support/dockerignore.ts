// .dockerignore matching as Docker (moby/patternmatcher, used by BuildKit and the classic builder)
// does it, for tests that check what a build context holds without a Docker engine:
// - one pattern a line; lines starting with `#` and blank lines are ignored; surrounding blanks are trimmed;
// - patterns are cleaned (`./a//b/` -> `a/b`) and anchored at the context root: a leading `/` is dropped
//   and `node_modules` matches the top-level directory only (`**/node_modules` matches anywhere);
// - `*` is any run of characters but `/`, `?` one character but `/`, `[...]` a class, `\` escapes,
//   `**` any number of directories (zero included), a trailing `**` everything;
// - a pattern that matches a directory matches everything under it;
// - `!pattern` re-includes, and the last pattern that matches a path decides.
import { posix } from 'node:path';

interface Rule {
  negated: boolean;
  source: string;
  matches: Matcher;
}

/** Characters moby escapes (regex specials that mean nothing in a path pattern); `[`, `]` pass through. */
const SHOULD_ESCAPE = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

type Matcher = (path: string) => boolean;

/**
 * One cleaned pattern -> a matcher, a port of moby/patternmatcher's Pattern.compile and match: a pattern
 * without wildcards compares exactly, `prefix**` is a prefix test, `**suffix` (no other wildcard) a
 * suffix test, anything else an anchored regular expression.
 */
function compile(pattern: string): Matcher {
  let re = '^';
  let type: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  for (let i = 0, pos = 0; pos < pattern.length; i++) {
    const ch = pattern.charAt(pos++);
    if (ch === '*') {
      if (pattern.charAt(pos) === '*') {
        pos++;
        // `**/` is read as `**`.
        if (pattern.charAt(pos) === '/') pos++;
        if (pos >= pattern.length) {
          // A trailing `**` accepts everything below, as in .gitignore.
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          // Any number of directories, zero included.
          re += '(.*/)?';
          type = 'regexp';
        }
        if (i === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (SHOULD_ESCAPE.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      if (pos < pattern.length) {
        re += `\\${pattern.charAt(pos++)}`;
        type = 'regexp';
      } else {
        re += '\\\\';
      }
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  switch (type) {
    case 'exact':
      return (path) => path === pattern;
    case 'prefix': {
      const prefix = pattern.slice(0, -2);
      return (path) => path.startsWith(prefix);
    }
    case 'suffix': {
      const suffix = pattern.slice(2);
      return (path) => path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
    }
    case 'regexp': {
      // Go's regexp syntax and JavaScript's agree on everything this produces.
      const regex = new RegExp(`${re}$`, 'u');
      return (path) => regex.test(path);
    }
  }
}

/** filepath.Clean, then relative to the context root (a leading `/` dropped). */
function clean(path: string): string {
  const cleaned = posix.normalize(path).replace(/\/+$/, '').replace(/^\/+/, '');
  return cleaned === '.' ? '' : cleaned;
}

export interface Dockerignore {
  /** The patterns as given (after trimming), in order. */
  patterns: readonly string[];
  /** True when `path` (relative to the context root, slash separated) is left out of the context. */
  excludes(path: string): boolean;
}

export function parseDockerignore(text: string): Dockerignore {
  const rules: Rule[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    // As BuildKit reads the file: a BOM is dropped, `#` counts only in the first column, then blanks are trimmed.
    const unbommed = i === 0 ? raw.replace(/^\uFEFF/, '') : raw;
    if (unbommed.startsWith('#')) continue;
    const line = unbommed.trim();
    if (line === '') continue;
    const negated = line.startsWith('!');
    const body = clean(negated ? line.slice(1).trim() : line);
    if (body === '') continue;
    rules.push({ negated, source: line, matches: compile(body) });
  }
  return {
    patterns: rules.map((r) => r.source),
    excludes(path) {
      const target = clean(path);
      const parts = target.split('/');
      // The path itself and each of its parent directories: a pattern matching a parent matches the path.
      const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
      let excluded = false;
      for (const rule of rules) {
        // As moby: an inclusion is only tried while the path is not excluded, an exclusion only while it is.
        if (rule.negated !== excluded) continue;
        if (candidates.some((c) => rule.matches(c))) excluded = !rule.negated;
      }
      return excluded;
    },
  };
}
