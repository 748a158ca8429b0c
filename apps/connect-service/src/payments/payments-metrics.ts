import { Counter, register } from 'prom-client';

function counter<T extends string>(name: string, help: string, labelNames: readonly T[]): Counter<T> {
  // Several apps boot in one test process: reuse the metric of the default registry.
  return (
    (register.getSingleMetric(name) as Counter<T> | undefined) ?? new Counter({ name, help, labelNames })
  );
}

export const paymentsTotal = counter(
  'connect_payments_total',
  'Payments routed, by currency, charge type and outcome',
  ['currency', 'charge_type', 'outcome'] as const,
);

export const paymentVolume = counter(
  'connect_payment_volume_minor_total',
  'Amount of completed payments in minor units',
  ['currency'] as const,
);

export const paymentFees = counter(
  'connect_payment_fees_minor_total',
  'Platform fees of completed payments in minor units',
  ['currency'] as const,
);
