/** A parsed Prometheus text exposition: metric families by `# TYPE`, and every sample with its labels. */
export interface Exposition {
  families: Map<string, string>;
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

export function parseExposition(text: string): Exposition {
  const families = new Map<string, string>();
  const samples: Exposition['samples'] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      families.set(type[1], type[2]);
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { families, samples };
}

/** Every series name /metrics can carry: histograms and summaries add their _bucket/_sum/_count series. */
export function exportedSeriesNames(e: Exposition): Set<string> {
  const names = new Set<string>();
  for (const [family, type] of e.families) {
    names.add(family);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(family + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(family + s);
  }
  return names;
}

/** The value of the one sample named `name` whose labels include `labels` (undefined when there is none). */
export function sampleValue(
  e: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return e.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}
