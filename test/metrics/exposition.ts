/**
 * Reads Prometheus's text exposition format as a scraper would: the tests assert on
 * parsed samples, never on substrings of the text.
 */

export interface Exposition {
  /** `# TYPE` of each metric family. */
  readonly types: ReadonlyMap<string, string>;
  /** The value of the sample `name{labels}`; undefined when the scrape has no such sample. */
  value(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
  /** Every sample of `name`, whatever its labels. */
  samples(name: string): Array<{ labels: Record<string, string>; value: number }>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * @example
 * ```ts
 * const scrape = parseExposition(await (await fetch(`${url}/metrics`)).text());
 * expect(scrape.value('glacis_tasks', { type: 'pull', status: 'finished' })).toBe(1);
 * ```
 */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const all: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(LABEL)) labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    all.push({ name: sample[1]!, labels, value: Number(sample[3]!.replace(/^\+Inf$/, 'Infinity').replace(/^-Inf$/, '-Infinity')) });
  }
  const same = (a: Record<string, string>, b: Readonly<Record<string, string>>): boolean =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
  return {
    types,
    value: (name, labels = {}) => all.find((s) => s.name === name && same(s.labels, labels))?.value,
    samples: (name) => all.filter((s) => s.name === name).map(({ labels, value }) => ({ labels, value })),
  };
}
