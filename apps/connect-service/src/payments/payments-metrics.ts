import { metric } from '@app/common';

export const paymentsTotal = metric.counter({
  name: 'connect_payments_total',
  help: 'Payments routed, by currency, charge type and outcome',
  labelNames: ['currency', 'charge_type', 'outcome'] as const,
});

export const paymentVolume = metric.counter({
  name: 'connect_payment_volume_minor_total',
  help: 'Amount of completed payments in minor units',
  labelNames: ['currency'] as const,
});

export const paymentFees = metric.counter({
  name: 'connect_payment_fees_minor_total',
  help: 'Platform fees of completed payments in minor units',
  labelNames: ['currency'] as const,
});
