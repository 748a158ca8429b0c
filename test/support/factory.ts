import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  ConnectAccountEntity,
  ConnectAccountStatus,
  OnboardingMethod,
  StripeAccountType,
} from '@app/database';
import { StripeGateway } from '@app/stripe-gateway';
import type { TestApp } from './app';
import { uniqueTenant } from './app';
import { emulatorControl } from './emulator';
import { eventually } from '../utils/eventually';
import { api, ApiResponse, JsonBody } from './http';

export interface ConnectedTenant {
  tenant: string;
  acct: string;
}

/** A token of the platform's backend (role platform, every scope): what creates payments for any tenant. */
export const platformToken = (t: TestApp, sub = 'platform-backend'): string =>
  t.token({ sub, roles: ['platform'] });

/**
 * A new tenant with an Express account made through the app's gateway, verified at the emulator and recorded
 * active (charges enabled) in connect_accounts. `columns` adds to or overrides the recorded row.
 */
export async function connectTenant(
  t: TestApp,
  opts: { prefix: string; emulatorUrl?: string; columns?: Partial<ConnectAccountEntity> },
): Promise<ConnectedTenant> {
  const tenant = uniqueTenant(opts.prefix);
  const account = await t.app.get(StripeGateway).createAccount({ type: 'express', country: 'US' });
  await emulatorControl(opts.emulatorUrl ?? t.emulatorUrl!, `accounts/${account.id}/verification`, {
    action: 'complete',
  });
  await t.app
    .get(DataSource)
    .getRepository(ConnectAccountEntity)
    .insert({
      tenant_id: tenant,
      stripe_account_id: account.id,
      status: ConnectAccountStatus.Active,
      charges_enabled: true,
      onboarding_method: OnboardingMethod.AccountLink,
      account_type: StripeAccountType.Express,
      ...opts.columns,
    });
  return { tenant, acct: account.id };
}

/** Our payment route as POST/GET /connect/payments answer it. */
export interface PaymentRoute {
  id: string;
  tenant_id: string;
  status: string;
  amount: number;
  fee: number;
  currency: string;
  charge_type: string;
  stripe_object_id: string | null;
  payment_intent: { id: string | null; status: string | null; client_secret: string | null };
  failure_code: string | null;
}

export interface NewPayment {
  tenant: string;
  amount: number;
  /** Default usd. */
  currency?: string;
  /** Default: the service's (direct, or what the active rule set routes to). */
  charge_type?: 'direct' | 'destination';
  /** Default pm_card_visa (pm_card_chargeDeclined for a 402). */
  payment_method?: string;
  /** Further payment_data fields. */
  extra?: Record<string, unknown>;
  /** Default: a new one per call; null sends none. */
  idempotencyKey?: string | null;
  /** Default: a platform token (platformToken). */
  token?: string;
  /** Sent instead of a bearer token (e.g. an API key's headers). */
  headers?: Record<string, string>;
}

/** POST /connect/payments with a confirmed card payment, as the platform's backend sends it; the answer as is. */
export function postPayment(
  t: TestApp,
  p: NewPayment,
): Promise<ApiResponse<PaymentRoute & { code?: string; details?: JsonBody }>> {
  return api(t)('POST', '/connect/payments', {
    token: p.headers ? p.token : (p.token ?? platformToken(t)),
    headers: {
      ...(p.idempotencyKey === null ? {} : { 'idempotency-key': p.idempotencyKey ?? `pay-${randomUUID()}` }),
      ...p.headers,
    },
    body: {
      tenant_id: p.tenant,
      payment_data: {
        amount: p.amount,
        currency: p.currency ?? 'usd',
        payment_method: p.payment_method ?? 'pm_card_visa',
        confirm: true,
        ...(p.charge_type ? { charge_type: p.charge_type } : {}),
        ...p.extra,
      },
    },
  });
}

/** A payment through the real API (postPayment); its route. Throws on any answer but 201 and those in `accept`. */
export async function createPayment(
  t: TestApp,
  p: NewPayment & { accept?: number[] },
): Promise<PaymentRoute> {
  const res = await postPayment(t, p);
  if (res.status !== 201 && !p.accept?.includes(res.status)) {
    throw new Error(`payment refused: ${res.status} ${res.raw}`);
  }
  return res.body;
}

/** A payment (createPayment) completed by the app's webhooks: its route id and the charge it made. */
export async function completedPayment(t: TestApp, p: NewPayment): Promise<{ id: string; charge: string }> {
  const { id } = await createPayment(t, p);
  const token = p.headers ? undefined : (p.token ?? platformToken(t));
  return eventually(`payment ${id} completed`, async () => {
    const r = await api(t)<PaymentRoute>('GET', `/connect/payments/${id}`, { token, headers: p.headers });
    return r.body.status === 'completed' && r.body.stripe_object_id
      ? { id, charge: r.body.stripe_object_id }
      : null;
  });
}
