import fc from 'fast-check';

/** The parts of an OpenAPI 3 document the fuzzer reads. */
export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: boolean | Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
}
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
  example?: unknown;
}
export interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses: Record<string, unknown>;
  security?: unknown[];
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** One operation of the document. */
export interface Op {
  method: string;
  path: string;
  op: Operation;
}

export function operationsOf(doc: OpenApiDocument): Op[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}

/** Strings that broke services before: NUL, lone surrogates, huge, empty, injection-shaped, path tricks. */
const HOSTILE_TEXT = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '',
  ' ',
  'x'.repeat(5_000),
  "' OR 1=1 --",
  '../../etc/passwd',
  '%00',
  '<script>alert(1)</script>',
  '9'.repeat(40),
  '-1',
  'null',
  '😀',
  'evt_',
  'sub_',
  '00000000-0000-0000-0000-000000000000',
];
const hostileText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_TEXT) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);
/** Any JSON value of a wrong shape. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileText,
  fc.constantFrom(-1, 0, 1.5, -(2 ** 53), 2 ** 63, 1e308, null, true, false, [], {}, [null], { $ne: 1 }),
);

/** Path segments as sent (already percent-encoded): invalid UTF-8, NUL, over the router's length, traversal. */
const HOSTILE_SEGMENTS = [
  '%00',
  '%ED%A0%80',
  '%FF',
  'e'.repeat(8_000),
  '..',
  '%2F',
  'a%20b',
  "'",
  '0',
  'sub_x',
];

export class SchemaArbitraries {
  constructor(private readonly doc: OpenApiDocument) {}

  private resolve(schema: Schema): Schema {
    let s = schema;
    for (let i = 0; s.$ref && i < 10; i++) s = this.doc.components.schemas[s.$ref.split('/').pop()!] ?? {};
    if (s.allOf?.length) return { ...this.resolve(s.allOf[0]), ...s, allOf: undefined };
    return s;
  }

  /** Values of the schema's shape (its example, its enum, or generated from its type), depth-bounded. */
  valid(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
    if (!schema) return fc.constant(undefined);
    const s = this.resolve(schema);
    const variants = s.oneOf ?? s.anyOf;
    if (variants?.length) return fc.oneof(...variants.map((v) => this.valid(v, depth + 1)));
    const options: fc.Arbitrary<unknown>[] = [];
    if (s.example !== undefined) options.push(fc.constant(s.example));
    if (s.enum?.length) options.push(fc.constantFrom(...s.enum));
    else options.push(this.byType(s, depth));
    return options.length === 1 ? options[0] : fc.oneof(...options);
  }

  private byType(s: Schema, depth: number): fc.Arbitrary<unknown> {
    const type = s.type ?? (s.properties ? 'object' : s.items ? 'array' : undefined);
    switch (type) {
      case 'string':
        if (s.format === 'uuid') return fc.uuid();
        if (s.format === 'date-time' || s.format === 'date')
          return fc
            .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
            .map((d) => d.toISOString());
        return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 24, 64) });
      case 'integer':
        return fc.integer({ min: s.minimum ?? -10, max: s.maximum ?? 1_000_000 });
      case 'number':
        return fc.oneof(
          fc.integer({ min: s.minimum ?? -10, max: s.maximum ?? 1_000_000 }),
          fc.double({ min: s.minimum ?? -10, max: s.maximum ?? 1_000_000, noNaN: true }),
        );
      case 'boolean':
        return fc.boolean();
      case 'array':
        return depth > 4 ? fc.constant([]) : fc.array(this.valid(s.items ?? {}, depth + 1), { maxLength: 3 });
      case 'object': {
        if (depth > 4) return fc.constant({});
        const props = Object.fromEntries(
          Object.entries(s.properties ?? {}).map(([k, v]) => [k, this.valid(v, depth + 1)]),
        );
        const record = fc.record(props, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
        if (!s.additionalProperties || Object.keys(props).length) return record;
        return fc.dictionary(
          fc.string({ maxLength: 8 }),
          fc.oneof(fc.string({ maxLength: 8 }), fc.integer()),
          {
            maxKeys: 3,
          },
        );
      }
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  }

  /** A valid-shaped value with one place (itself, or one field however deep) replaced by a hostile value. */
  mutated(schema: Schema | undefined): fc.Arbitrary<unknown> {
    return fc
      .tuple(this.valid(schema), hostileValue, fc.nat(), fc.boolean())
      .map(([value, bad, pick, addKey]) => replaceOne(value, bad, pick, addKey));
  }

  /** Valid-shaped values mostly, mutated ones often, wholly wrong ones sometimes. */
  value(schema: Schema | undefined): fc.Arbitrary<unknown> {
    return fc.oneof(
      { weight: 3, arbitrary: this.valid(schema) },
      { weight: 3, arbitrary: this.mutated(schema) },
      { weight: 1, arbitrary: hostileValue },
    );
  }

  /** A path segment: a valid one (encoded), or a hostile one as the client would put it on the wire. */
  segment(param: Parameter): fc.Arbitrary<string> {
    const valid = this.valid(param.schema ?? { type: 'string', example: param.example }).map((v) =>
      encodeURIComponent(String(v ?? 'x')),
    );
    return fc.oneof(
      { weight: 2, arbitrary: valid },
      { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
    );
  }

  /** A query string value (URLSearchParams encodes it; a lone surrogate becomes U+FFFD there, so also sent raw). */
  query(param: Parameter): fc.Arbitrary<string | undefined> {
    const v = this.value(param.schema).map((x) =>
      x === undefined ? undefined : typeof x === 'string' ? x : JSON.stringify(x),
    );
    return param.required
      ? v.map((x) => x ?? '')
      : fc.option(v, { nil: undefined }).map((x) => x ?? undefined);
  }
}

function replaceOne(value: unknown, bad: unknown, pick: number, addKey: boolean): unknown {
  const slots: { holder: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach((x, i) => (slots.push({ holder: v, key: i }), walk(x)));
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        slots.push({ holder: v as Record<string, unknown>, key: k });
        walk(x);
      }
  };
  const copy = value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
  walk(copy);
  if (!slots.length) return bad;
  const slot = slots[pick % slots.length];
  if (addKey && !Array.isArray(slot.holder))
    (slot.holder as Record<string, unknown>)[pick % 2 ? 'unexpected_field' : 'bad\u0000key'] = bad;
  else (slot.holder as Record<string | number, unknown>)[slot.key] = bad;
  return copy;
}
