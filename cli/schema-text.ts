// A method's `accepts` JSON Schema (core.get_methods) as readable text: one line per argument
// and per object property, nested by indentation.
import { pyJson } from './format.js';

type Schema = Record<string, unknown>;

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short type description: `string`, `integer | null`, `"a" | "b"`, `array of string`. */
export function typeText(s: Schema): string {
  if ('const' in s) return pyJson(s.const);
  if (Array.isArray(s.enum)) return s.enum.map(pyJson).join(' | ');
  const alts = (s.anyOf ?? s.oneOf) as unknown;
  if (Array.isArray(alts)) return alts.filter(isSchema).map(typeText).join(' | ');
  const t = s.type;
  if (Array.isArray(t)) return t.join(' | ');
  if (t === 'array') {
    if (Array.isArray(s.prefixItems)) return `[${s.prefixItems.filter(isSchema).map(typeText).join(', ')}]`;
    return isSchema(s.items) ? `array of ${typeText(s.items)}` : 'array';
  }
  if (typeof t === 'string') return t;
  return 'any';
}

function constraints(s: Schema): string[] {
  const out: string[] = [];
  if (typeof s.minimum === 'number') out.push(`>= ${s.minimum}`);
  if (typeof s.exclusiveMinimum === 'number') out.push(`> ${s.exclusiveMinimum}`);
  if (typeof s.maximum === 'number') out.push(`<= ${s.maximum}`);
  if (typeof s.exclusiveMaximum === 'number') out.push(`< ${s.exclusiveMaximum}`);
  if (typeof s.minLength === 'number' && s.minLength > 0) out.push(`min length ${s.minLength}`);
  if (typeof s.maxLength === 'number') out.push(`max length ${s.maxLength}`);
  if (typeof s.minItems === 'number' && s.minItems > 0) out.push(`min ${s.minItems} items`);
  if (typeof s.maxItems === 'number') out.push(`max ${s.maxItems} items`);
  if (typeof s.pattern === 'string') out.push(`pattern ${s.pattern}`);
  if (typeof s.format === 'string') out.push(`format ${s.format}`);
  if (s.secret === true) out.push('secret');
  return out;
}

function line(name: string, s: Schema, required: boolean, indent: string): string {
  const parts = [typeText(s), ...constraints(s)];
  if ('default' in s) parts.push(`default ${pyJson(s.default)}`);
  else if (required) parts.push('required');
  const desc = typeof s.description === 'string' && s.description !== '' ? ` - ${s.description}` : '';
  return `${indent}${name}: ${parts.join(', ')}${desc}`;
}

/** The object members of `s` (also inside a union like `object | null`). */
function objectPart(s: Schema): Schema | null {
  if (isSchema(s.properties)) return s;
  const alts = (s.anyOf ?? s.oneOf) as unknown;
  if (Array.isArray(alts)) for (const a of alts) if (isSchema(a) && isSchema(a.properties)) return a;
  return null;
}

function children(s: Schema, indent: string, depth: number): string[] {
  if (depth > 6) return [];
  const obj = objectPart(s);
  if (obj) {
    const req = new Set(Array.isArray(obj.required) ? obj.required.map(String) : []);
    const out: string[] = [];
    for (const [k, v] of Object.entries(obj.properties as Record<string, unknown>)) {
      if (!isSchema(v)) continue;
      out.push(line(k, v, req.has(k), indent));
      out.push(...children(v, `${indent}  `, depth + 1));
    }
    if (obj.additionalProperties === false) out.push(`${indent}(no other keys)`);
    return out;
  }
  if (s.type === 'array' && isSchema(s.items) && objectPart(s.items)) {
    return [`${indent}each item:`, ...children(s.items, `${indent}  `, depth + 1)];
  }
  return [];
}

/** Lines describing the positional arguments of an `accepts` schema. */
export function argumentsText(accepts: unknown): string[] {
  if (!isSchema(accepts) || !Array.isArray(accepts.prefixItems)) return ['  (arguments not described)'];
  const items = accepts.prefixItems.filter(isSchema);
  if (items.length === 0) return ['  (no arguments)'];
  const minItems = typeof accepts.minItems === 'number' ? accepts.minItems : 0;
  const out: string[] = [];
  items.forEach((s, i) => {
    const name = typeof s._name_ === 'string' ? s._name_ : typeof s.title === 'string' ? s.title : `arg${i + 1}`;
    out.push(line(`${i + 1}. ${name}`, s, i < minItems, '  '));
    out.push(...children(s, '       ', 0));
  });
  return out;
}
