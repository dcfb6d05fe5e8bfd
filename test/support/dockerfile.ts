// A Dockerfile reader for tests that check the image's recipe without a Docker engine: instructions
// (comments dropped, `\` continuations joined) grouped into stages, with the few argument forms the
// checks need: exec form (JSON arrays), `--flag=value` options, `KEY=value` lists (ENV, LABEL, ARG).
import { readFileSync } from 'node:fs';

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  keyword: string;
  /** Everything after the keyword, continuations joined with a space. */
  args: string;
  /** 1-based line the instruction starts on. */
  line: number;
}

export interface Stage {
  /** Image reference after FROM (flags and `AS name` removed). */
  from: string;
  name: string | undefined;
  /** Position among the stages, 0 first. */
  index: number;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Instructions before the first FROM (global ARGs). */
  preamble: Instruction[];
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let current: { start: number; parts: string[] } | undefined;
  for (const [i, raw] of lines.entries()) {
    // Comment lines are dropped wherever they are, even inside a continuation (as Docker does).
    if (/^\s*#/.test(raw)) continue;
    if (current === undefined && raw.trim() === '') continue;
    const continued = /\\\s*$/.test(raw);
    const body = continued ? raw.replace(/\\\s*$/, '') : raw;
    if (current === undefined) current = { start: i + 1, parts: [] };
    current.parts.push(body.trim());
    if (!continued) {
      const joined = current.parts.filter((p) => p !== '').join(' ');
      const match = /^(\S+)\s*(.*)$/s.exec(joined);
      if (match !== null)
        instructions.push({ keyword: (match[1] ?? '').toUpperCase(), args: match[2] ?? '', line: current.start });
      current = undefined;
    }
  }
  const preamble: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        from: words[0] ?? '',
        name: as >= 0 ? words[as + 1] : undefined,
        index: stages.length,
        instructions: [],
      });
    } else {
      const stage = stages.at(-1);
      if (stage === undefined) preamble.push(ins);
      else stage.instructions.push(ins);
    }
  }
  return { preamble, stages };
}

export function readDockerfile(path = 'Dockerfile'): Dockerfile {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

/** The JSON array of an exec-form instruction (CMD, ENTRYPOINT, RUN, HEALTHCHECK CMD), or undefined (shell form). */
export function execForm(args: string): string[] | undefined {
  const trimmed = args.trim();
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Leading `--name=value` (or `--name`) options, and the rest. */
export function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args.trim();
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (m === null) break;
    flags[m[1] ?? ''] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** Words with shell-like quoting: "a b" and 'a b' are one word, quotes removed, \x escapes x. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) word += text.charAt(++i);
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      word += text.charAt(++i);
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new Error(`unterminated ${quote} in: ${text}`);
  if (inWord) words.push(word);
  return words;
}

/** `KEY=value KEY2="v 2"` (ENV, LABEL, ARG) or the legacy `ENV KEY value` form. */
export function keyValues(args: string): Record<string, string> {
  const words = shellWords(args);
  const out: Record<string, string> = {};
  if (words.length > 0 && !(words[0] ?? '').includes('=')) {
    // Legacy single pair (ENV KEY value ...), or a bare ARG NAME.
    out[words[0] ?? ''] = words.slice(1).join(' ');
    return out;
  }
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new Error(`not KEY=value: ${w} in ${args}`);
    out[w.slice(0, eq)] = w.slice(eq + 1);
  }
  return out;
}

/** `${NAME}` / `$NAME` replaced from `vars` (as Docker substitutes ARG and ENV in LABEL, ENV, ...). */
export function substitute(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a: string, b: string) => {
    const name = a ?? b;
    return vars[name] ?? '';
  });
}

export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The stage's ENV (later assignments win), with ARG defaults substituted. */
export function stageEnv(stage: Stage): Record<string, string> {
  const args: Record<string, string> = {};
  const env: Record<string, string> = {};
  for (const ins of stage.instructions) {
    if (ins.keyword === 'ARG') Object.assign(args, keyValues(ins.args));
    if (ins.keyword === 'ENV')
      for (const [k, v] of Object.entries(keyValues(ins.args))) env[k] = substitute(v, { ...args, ...env });
  }
  return env;
}

/** The stage's LABELs with ARG defaults substituted. */
export function stageLabels(stage: Stage): Record<string, string> {
  const args: Record<string, string> = {};
  const labels: Record<string, string> = {};
  for (const ins of stage.instructions) {
    if (ins.keyword === 'ARG') Object.assign(args, keyValues(ins.args));
    if (ins.keyword === 'LABEL')
      for (const [k, v] of Object.entries(keyValues(ins.args))) labels[k] = substitute(v, args);
  }
  return labels;
}

/** The last WORKDIR of a stage (absolute paths only; relative WORKDIRs are not used here). */
export function stageWorkdir(stage: Stage): string | undefined {
  return instructionsOf(stage, 'WORKDIR').at(-1)?.args.trim();
}

export interface CopyInstruction {
  from: string | undefined;
  chown: string | undefined;
  sources: string[];
  dest: string;
  line: number;
}

export function copiesOf(stage: Stage): CopyInstruction[] {
  return instructionsOf(stage, 'COPY').map((ins) => {
    const { flags, rest } = splitFlags(ins.args);
    const words = execForm(rest) ?? shellWords(rest);
    if (words.length < 2) throw new Error(`COPY needs a source and a destination (line ${ins.line})`);
    return {
      from: flags['from'],
      chown: flags['chown'],
      sources: words.slice(0, -1),
      dest: words.at(-1) ?? '',
      line: ins.line,
    };
  });
}
