/**
 * Bounded in-memory state. Every collection is an insertion-ordered Map that evicts its oldest entries past a
 * cap, so a long benchmark cannot grow the emulator without limit.
 */
export type StripeObject = Record<string, unknown> & { id: string; object: string };

export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly cap: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    if (!this.map.has(key) && this.map.size >= this.cap) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  /** Newest first, the order Stripe's lists use. */
  newestFirst(): V[] {
    return [...this.map.values()].reverse();
  }

  clear(): void {
    this.map.clear();
  }
}

export class RingBuffer<T> {
  private readonly items: T[] = [];

  constructor(private readonly cap: number) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.cap) this.items.splice(0, this.items.length - this.cap);
  }

  /** Oldest first. */
  toArray(): T[] {
    return [...this.items];
  }
}

/** Every object lives under the account that owns it (the platform or a connected account). */
export interface StoredObject {
  owner: string;
  obj: StripeObject;
}

export const COLLECTIONS = [
  'account',
  'payment_intent',
  'charge',
  'refund',
  'application_fee',
  'transfer',
  'transfer_reversal',
  'fee_refund',
  'payout',
  'balance_transaction',
  'customer',
  'product',
  'price',
  'subscription',
  'invoice',
  'dispute',
  'event',
  'webhook_endpoint',
  'v2_event',
  'event_destination',
] as const;
export type CollectionName = (typeof COLLECTIONS)[number];

export const DEFAULT_COLLECTION_CAP = 20_000;

export class Store {
  private readonly collections = new Map<CollectionName, BoundedMap<string, StoredObject>>();

  constructor(cap = DEFAULT_COLLECTION_CAP) {
    for (const name of COLLECTIONS) this.collections.set(name, new BoundedMap(cap));
  }

  private col(name: CollectionName): BoundedMap<string, StoredObject> {
    return this.collections.get(name) as BoundedMap<string, StoredObject>;
  }

  put<T extends StripeObject>(name: CollectionName, owner: string, obj: T): T {
    this.col(name).set(obj.id, { owner, obj });
    return obj;
  }

  /** The object when it exists and belongs to `owner`, else undefined (Stripe answers 404 either way). */
  find<T extends StripeObject = StripeObject>(
    name: CollectionName,
    id: string,
    owner: string,
  ): T | undefined {
    const entry = this.col(name).get(id);
    return entry && entry.owner === owner ? (entry.obj as T) : undefined;
  }

  /** Ignores ownership: for internal bookkeeping (webhook delivery, the control API). */
  entry(name: CollectionName, id: string): StoredObject | undefined {
    return this.col(name).get(id);
  }

  /** Any object by id, whatever its collection (the drift controls). */
  findAnywhere(id: string): { collection: CollectionName; entry: StoredObject } | undefined {
    for (const name of COLLECTIONS) {
      const entry = this.col(name).get(id);
      if (entry) return { collection: name, entry };
    }
    return undefined;
  }

  remove(name: CollectionName, id: string): void {
    this.col(name).delete(id);
  }

  list<T extends StripeObject = StripeObject>(
    name: CollectionName,
    owner: string | null,
    filter?: (obj: T) => boolean,
  ): T[] {
    const out: T[] = [];
    for (const entry of this.col(name).newestFirst()) {
      if (owner !== null && entry.owner !== owner) continue;
      const obj = entry.obj as T;
      if (!filter || filter(obj)) out.push(obj);
    }
    return out;
  }

  size(name: CollectionName): number {
    return this.col(name).size;
  }
}
