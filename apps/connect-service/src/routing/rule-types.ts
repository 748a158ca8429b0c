import type { FeeSchedule } from '@app/database';

/** The rule language (docs/routing.md): plain JSON, stored as given, compiled once per version. */
export const OPERATORS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'nin', 'between'] as const;
export type Operator = (typeof OPERATORS)[number];

export type ConditionValue = string | number | boolean | null | (string | number)[];

export interface LeafCondition {
  field: string;
  op: Operator;
  value: ConditionValue;
}
export type Condition = LeafCondition | { all: Condition[] } | { any: Condition[] } | { not: Condition };

export const CHARGE_TYPES = ['direct', 'destination', 'separate'] as const;
export type RouteChargeType = (typeof CHARGE_TYPES)[number];

/** One tenant's part of a split: a fixed amount in minor units, or a share (basis points) of what is shared. */
export interface SplitPart {
  tenant_id: string;
  amount?: number;
  share_bps?: number;
}

/** A rule's output: how the money moves on Stripe Connect. */
export interface Route {
  charge_type?: RouteChargeType;
  fee?: FeeSchedule;
  on_behalf_of?: boolean;
  capture_method?: 'automatic' | 'manual';
  statement_descriptor_suffix?: string;
  split?: SplitPart[];
  block?: { reason: string };
}

export interface Rule {
  name: string;
  when: Condition;
  route: Route;
  alternatives?: Route[];
  split_volume?: { weight: number; route: Route }[];
}

export interface RuleSetDefinition {
  rules: Rule[];
  default: Route;
}

/** What a rule sees of a payment. */
export interface PaymentContext {
  /** The payment route's id: a volume split hashes it, so a replay chooses the same branch. */
  route_id: string;
  amount: number;
  currency: string;
  tenant_id: string;
  /** The tenant's labels: its connected account's metadata (e.g. `tier`). */
  tenant: Record<string, string>;
  account: { country: string | null; status: string; capabilities: Record<string, string> } | null;
  payment_method_type: string | null;
  card: { brand: string | null; country: string | null } | null;
  metadata: Record<string, string>;
}

/** Fields a condition may name; the ones ending in a dot take a key (`tenant.tier`, `metadata.channel`). */
export const SCALAR_FIELDS = [
  'amount',
  'currency',
  'tenant_id',
  'account.country',
  'account.status',
  'payment_method_type',
  'card.brand',
  'card.country',
] as const;
export const KEYED_FIELDS = ['tenant.', 'account.capabilities.', 'metadata.'] as const;
/** Fields whose values are numbers (the only ones lt/lte/gt/gte/between compare). */
export const NUMERIC_FIELDS = new Set<string>(['amount']);

export const isKnownField = (field: string): boolean =>
  (SCALAR_FIELDS as readonly string[]).includes(field) ||
  KEYED_FIELDS.some((p) => field.startsWith(p) && field.length > p.length);
