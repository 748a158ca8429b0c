/**
 * What Swagger UI's "Try it out" sends for an operation of an OpenAPI 3 document: the request body's named
 * examples (or its `example`), else a sample built from the schema the way Swagger UI builds it (a property's
 * `example`, else its `default`, else its first `enum` value, else a placeholder of its type); a parameter's
 * `example` where it has one (Swagger UI pre-fills it), nothing for an optional parameter without one.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Schema = any;

export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  example?: unknown;
  schema?: Schema;
}

export interface Operation {
  parameters?: Parameter[];
  requestBody?: {
    content: Record<
      string,
      { schema?: Schema; example?: unknown; examples?: Record<string, { value: unknown }> }
    >;
  };
  responses: Record<string, { content?: Record<string, unknown> }>;
}

function resolveRef(doc: OpenApiDoc, schema: Schema): Schema {
  if (schema?.$ref) return doc.components.schemas[String(schema.$ref).replace('#/components/schemas/', '')];
  return schema;
}

function placeholder(schema: Schema): unknown {
  switch (schema.format) {
    case 'date-time':
      return new Date().toISOString();
    case 'date':
      return new Date().toISOString().slice(0, 10);
    case 'email':
      return 'user@example.com';
    case 'uuid':
      return '3fa85f64-5717-4562-b3fc-2c963f66afa6';
    case 'uri':
      return 'https://example.com/';
    default:
      return 'string';
  }
}

export function sampleOf(doc: OpenApiDoc, raw: Schema): unknown {
  const schema = resolveRef(doc, raw);
  if (!schema) return undefined;
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s: Schema) => sampleOf(doc, s)));
  if (schema.oneOf ?? schema.anyOf) return sampleOf(doc, (schema.oneOf ?? schema.anyOf)[0]);
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  if (type === 'object') {
    if (!schema.properties) return schema.additionalProperties ? { additionalProp1: {} } : {};
    return Object.fromEntries(
      Object.entries(schema.properties as Record<string, Schema>)
        .filter(([, p]) => !resolveRef(doc, p)?.readOnly)
        .map(([name, p]) => [name, sampleOf(doc, p)]),
    );
  }
  if (type === 'array') return [sampleOf(doc, schema.items ?? {})];
  if (type === 'integer' || type === 'number') return schema.minimum ?? 0;
  if (type === 'boolean') return true;
  if (type === 'string') return placeholder(schema);
  return undefined;
}

/** The bodies Swagger UI offers for the operation: one per named example, or the one sample. */
export function requestBodies(doc: OpenApiDoc, op: Operation): { name: string; body: unknown }[] {
  const media = op.requestBody?.content['application/json'];
  if (!media) return [{ name: 'no body', body: undefined }];
  if (media.examples) return Object.entries(media.examples).map(([name, e]) => ({ name, body: e.value }));
  if (media.example !== undefined) return [{ name: 'example', body: media.example }];
  return [{ name: 'schema sample', body: sampleOf(doc, media.schema) }];
}

/** A parameter's pre-filled value, as Swagger UI shows it; undefined when it leaves the field empty. */
export function parameterExample(p: Parameter): unknown {
  return p.example ?? p.schema?.example;
}

/** The status an operation documents for success: its lowest 2xx. */
export function successStatus(op: Operation): number {
  const ok = Object.keys(op.responses)
    .map(Number)
    .filter((s) => s >= 200 && s < 300)
    .sort((a, b) => a - b);
  if (!ok.length) throw new Error('no 2xx response documented');
  return ok[0];
}
