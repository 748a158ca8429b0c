import { EmulatorState } from '../context';
import { StripeApiError } from '../errors';
import { CollectionName, StripeObject } from '../store';

/**
 * Drift behind the service's back, as a Dashboard edit or a bug on either side would make it: fields of any
 * stored object changed, or an object forgotten, without any event.
 */
function controlError(status: number, message: string): StripeApiError {
  return new StripeApiError(status, { error: { type: 'invalid_request_error', message } });
}

function found(emu: EmulatorState, id: string): { collection: CollectionName; obj: StripeObject } {
  const hit = emu.store.findAnywhere(id);
  if (!hit) throw controlError(404, `No such object: '${id}'`);
  return { collection: hit.collection, obj: hit.entry.obj };
}

/** `set` keys are field names or dotted paths into nested objects (`metadata.order`, `transfer_data.amount`). */
export function setFields(emu: EmulatorState, id: string, set: unknown): StripeObject {
  if (typeof set !== 'object' || set === null || Array.isArray(set) || Object.keys(set).length === 0) {
    throw controlError(400, 'body must be {"set": {<field>: <value>, ...}}');
  }
  const { obj } = found(emu, id);
  for (const [path, value] of Object.entries(set as Record<string, unknown>)) {
    const keys = path.split('.');
    if (keys[0] === 'id' || keys[0] === 'object' || keys.some((k) => k === '' || k === '__proto__')) {
      throw controlError(400, `cannot set ${path}`);
    }
    let target = obj as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[keys[keys.length - 1]] = value;
  }
  return obj;
}

/** Where an object also appears embedded in its parent (so a forgotten one disappears there too). */
const PARENT: Partial<Record<CollectionName, { field: string; collection: CollectionName; list: string }>> = {
  refund: { field: 'charge', collection: 'charge', list: 'refunds' },
  transfer_reversal: { field: 'transfer', collection: 'transfer', list: 'reversals' },
  fee_refund: { field: 'fee', collection: 'application_fee', list: 'refunds' },
};

export function forget(emu: EmulatorState, id: string): Record<string, unknown> {
  const { collection, obj } = found(emu, id);
  emu.store.remove(collection, id);
  const parent = PARENT[collection];
  const owner = parent ? emu.store.entry(parent.collection, obj[parent.field] as string)?.obj : undefined;
  const list = owner?.[parent?.list as string] as { data: StripeObject[]; total_count?: number } | undefined;
  if (list) {
    list.data = list.data.filter((o) => o.id !== id);
    if (list.total_count) list.total_count -= 1;
  }
  return { id, object: obj.object, deleted: true };
}
