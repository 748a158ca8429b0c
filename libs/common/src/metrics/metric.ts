import {
  Counter,
  CounterConfiguration,
  Gauge,
  GaugeConfiguration,
  Histogram,
  HistogramConfiguration,
  register,
} from 'prom-client';

/** Several apps boot in one process (the e2e suites): a metric already on the registry is reused, not re-created. */
function getOrCreate<M>(name: string, create: () => M): M {
  return (register.getSingleMetric(name) as M | undefined) ?? create();
}

/**
 * The one way to declare a Prometheus metric: on prom-client's default registry, which `GET /metrics` serves
 * (MetricsModule). `metric.counter({ name, help, labelNames })`, and likewise `gauge` and `histogram`.
 */
export const metric = {
  counter: <L extends string>(c: CounterConfiguration<L>): Counter<L> =>
    getOrCreate(c.name, () => new Counter<L>(c)),
  gauge: <L extends string>(c: GaugeConfiguration<L>): Gauge<L> => getOrCreate(c.name, () => new Gauge<L>(c)),
  histogram: <L extends string>(c: HistogramConfiguration<L>): Histogram<L> =>
    getOrCreate(c.name, () => new Histogram<L>(c)),
};
