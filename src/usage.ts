// Command-line usage errors that commander's default command hides: with `serve` as the default,
// `voice-insights-exporter srve` would be read as `serve srve` ("too many arguments for 'serve'").
// The first operand is therefore checked against the command names before commander parses.

/** The first operand of argv (after node and the script): the command name, if one was given. */
export function commandOperand(args: readonly string[]): string | undefined {
  for (const arg of args) {
    if (arg === '--') return undefined;
    // The program's own options (-V, --version, -h, --help) take no value.
    if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i];
    if (row === undefined) continue;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The known names closest to `name` (within 40 % of its length, at least one edit), best first. */
export function similarCommands(name: string, known: readonly string[]): string[] {
  const limit = Math.max(1, Math.floor(name.length * 0.4));
  const scored = known
    .map((k) => ({ k, d: editDistance(name.toLowerCase(), k.toLowerCase()) }))
    .filter((s) => s.d <= limit || (name.length >= 3 && s.k.startsWith(name.toLowerCase())));
  const best = Math.min(...scored.map((s) => s.d));
  return scored.filter((s) => s.d === best).map((s) => s.k);
}

/** The message for an unknown command: the name, a suggestion if one is close, and every command. */
export function unknownCommandMessage(
  name: string,
  commands: readonly { name: string; description: string; isDefault?: boolean }[],
  program: string,
): string {
  const similar = similarCommands(
    name,
    commands.map((c) => c.name),
  );
  const label = (c: { name: string; isDefault?: boolean }) => (c.isDefault === true ? `${c.name} (default)` : c.name);
  const width = Math.max(...commands.map((c) => label(c).length));
  return [
    `error: unknown command '${name}'${similar.length > 0 ? ` (Did you mean ${similar.join(' or ')}?)` : ''}`,
    'Commands:',
    ...commands.map((c) => `  ${label(c).padEnd(width)}  ${c.description}`),
    `See '${program} --help'.`,
  ].join('\n');
}
