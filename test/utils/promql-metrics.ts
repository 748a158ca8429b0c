import { parser } from '@prometheus-io/lezer-promql';

/**
 * Grafana's interval variables are not PromQL: replaced by a duration of the same shape before parsing, as
 * Grafana does before it sends the query.
 */
function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$\{?__(?:rate_interval|interval|range)\}?/g, '5m');
}

/**
 * Parses PromQL with the Prometheus project's own grammar (`@prometheus-io/lezer-promql`, what the Prometheus UI
 * uses): syntax errors, as the source slices around them, and the metric name of every vector selector
 * (`foo_bucket{le="1"}[5m]` names `foo_bucket`; `{__name__="foo"}` names `foo`). Function names, label names in
 * `by`/`without`/`on`/`ignoring`/`group_left` and label values are not selectors, so they never count.
 */
export function parsePromql(expr: string): { metrics: string[]; errors: string[] } {
  const src = withoutGrafanaVariables(expr);
  const metrics = new Set<string>();
  const errors: string[] = [];
  parser.parse(src).iterate({
    enter(node) {
      if (node.type.isError)
        errors.push(`syntax error at ${node.from}: ${src.slice(Math.max(0, node.from - 20), node.to + 20)}`);
      if (node.name !== 'VectorSelector') return;
      const name = node.node.getChild('Identifier');
      if (name) metrics.add(src.slice(name.from, name.to));
      const byName = /__name__\s*=\s*"([^"]+)"/.exec(src.slice(node.from, node.to));
      if (byName) metrics.add(byName[1]);
    },
  });
  return { metrics: [...metrics], errors };
}
