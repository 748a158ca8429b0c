/** Words of PromQL that are not metric names when they stand outside a function call. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects. Strings (label values, regexes), label matchers `{...}`,
 * ranges and subqueries `[...]`, Grafana variables (`$__rate_interval`), label lists of `by (...)`,
 * `without (...)`, `on (...)`, `ignoring (...)`, `group_left (...)`, and function or aggregation names (a word
 * followed by `(`) are removed; what is left are the selectors' names, histogram suffixes included
 * (`http_request_duration_seconds_bucket`). `{__name__="x"}` selectors are read from their matcher.
 */
export function promqlMetricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/__name__\s*=\s*"([^"]+)"/g)) names.add(m[1]);
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    // Grafana templating ({{ $labels.x }}, {{ $value }}) never reaches here: only expressions are passed in.
    .replace(/#[^\n]*/g, ' ');
  for (const m of stripped.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)) {
    const word = m[1];
    if (!KEYWORDS.has(word.toLowerCase())) names.add(word);
  }
  return [...names];
}
