import { floorToStep, roundToStep } from '@app/common';
import type { FeeSchedule } from '@app/database';

/**
 * The platform's application fee for a charge, in integer minor units of `currency`:
 *
 *   fee = clamp(round_half_up(amount × basis_points / 10 000) + fixed[currency], minimum[currency], maximum[currency])
 *
 * then rounded half up to the currency's step (three-decimal currencies: multiples of 10; HUF/TWD: 100,
 * https://docs.stripe.com/currencies), and finally bounded to [0, amount] because Stripe refuses an `application_fee_amount` above
 * the amount (https://docs.stripe.com/api/payment_intents/create#create_payment_intent-application_fee_amount).
 * The one rounding rule is half up (0.5 minor unit rounds away from zero); BigInt keeps the product exact.
 */
export function calculateFee(amount: number, currency: string, schedule: FeeSchedule): number {
  const bp = BigInt(Math.max(0, Math.trunc(schedule.basis_points)));
  const proportional = Number((BigInt(amount) * bp + 5_000n) / 10_000n);
  let fee = proportional + (schedule.fixed?.[currency] ?? 0);
  const minimum = schedule.minimum?.[currency];
  const maximum = schedule.maximum?.[currency];
  if (minimum !== undefined && fee < minimum) fee = minimum;
  if (maximum !== undefined && fee > maximum) fee = maximum;
  fee = roundToStep(fee, currency);
  // Rounding up to the step must not cross the configured maximum nor the amount.
  if (maximum !== undefined && fee > maximum) fee = floorToStep(maximum, currency);
  if (fee > amount) fee = floorToStep(amount, currency);
  return Math.max(0, fee);
}
