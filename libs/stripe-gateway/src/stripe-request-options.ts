import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { StripeCallOptions, StripeReadOptions } from './stripe-gateway.types';

/** Drops undefined values: the SDK would otherwise send them as empty parameters. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Write options, fixed once per logical call so every retry carries the same idempotency key. */
export function writeOptions(options: StripeCallOptions = {}): Stripe.RequestOptions {
  return compact({
    idempotencyKey: options.idempotencyKey ?? randomUUID(),
    stripeAccount: options.stripeAccount,
  });
}

export function readOptions(options: StripeReadOptions = {}): Stripe.RequestOptions {
  return compact({ stripeAccount: options.stripeAccount });
}

/** With `host` set, the SDK sends every API base (OAuth's included) follows host, port and protocol. */
export function sdkHostOptions(apiBase: string): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
  const url = new URL(apiBase);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443,
    protocol,
  };
}
