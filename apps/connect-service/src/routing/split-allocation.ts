import type { SplitPart } from './rule-types';

/**
 * The one remainder rule of split payments: largest remainder (Hamilton). Each weight gets
 * floor(total × weight / Σweights); the cents left over go one each to the largest fractional remainders, ties to
 * the earliest entry. The parts always add up to `total` exactly. Exact in BigInt.
 */
export function allocate(total: number, weights: readonly number[]): number[] {
  if (weights.length === 0) return [];
  const w = weights.map((x) => BigInt(Math.max(0, Math.trunc(x))));
  const sum = w.reduce((a, b) => a + b, 0n);
  if (sum === 0n) return weights.map((_, i) => (i === 0 ? total : 0));
  const t = BigInt(total);
  const floors = w.map((x) => (t * x) / sum);
  const remainders = w.map((x, i) => ({ i, r: (t * x) % sum }));
  let left = Number(t - floors.reduce((a, b) => a + b, 0n));
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  const out = floors.map(Number);
  for (const { i } of remainders) {
    if (left <= 0) break;
    out[i] += 1;
    left -= 1;
  }
  return out;
}

/**
 * Each tenant's transfer of a split payment. What is shared is the amount less the platform fee; fixed `amount`
 * parts come off first, `share_bps` parts divide the rest by `allocate` (their shares add up to 10 000, so the
 * transfers add up to amount − fee to the cent). With fixed parts only, the platform keeps what is not transferred.
 * Null when the fixed parts exceed what is shared.
 */
export function splitAmounts(amount: number, fee: number, parts: readonly SplitPart[]): number[] | null {
  const shared = amount - fee;
  const fixed = parts.reduce((s, p) => s + (p.amount ?? 0), 0);
  const rest = shared - fixed;
  if (rest < 0) return null;
  const shareIdx = parts.map((p, i) => (p.amount === undefined ? i : -1)).filter((i) => i >= 0);
  const bps = shareIdx.map((i) => parts[i].share_bps ?? 0);
  const bpsSum = bps.reduce((a, b) => a + b, 0);
  // Shares short of 10 000 leave the rest with the platform (the validator refuses such a rule set).
  const distributed = bpsSum >= 10_000 ? rest : Number((BigInt(rest) * BigInt(bpsSum)) / 10_000n);
  const shares = allocate(distributed, bps);
  const out = parts.map((p) => p.amount ?? 0);
  shareIdx.forEach((i, k) => (out[i] = shares[k]));
  return out;
}

/**
 * How much of each transfer a refund reverses: in proportion to the refund, round(refund × Σtransfers / amount)
 * rounded half up and divided by `allocate` in the transfers' proportions, never more than a transfer's rest.
 * The refund that completes the payment's refunds reverses every transfer's whole rest, so a full refund in
 * several parts reverses exactly what was transferred.
 */
export function reversalAmounts(
  refund: number,
  chargeAmount: number,
  refundedBefore: number,
  transfers: readonly number[],
  reversedBefore: readonly number[],
): number[] {
  const rest = transfers.map((t, i) => Math.max(0, t - (reversedBefore[i] ?? 0)));
  if (refundedBefore + refund >= chargeAmount) return rest;
  const sumT = BigInt(transfers.reduce((a, b) => a + b, 0));
  const total = Number((BigInt(refund) * sumT * 2n + BigInt(chargeAmount)) / (2n * BigInt(chargeAmount)));
  return allocate(total, transfers).map((x, i) => Math.min(x, rest[i]));
}
