// The subset of Python's str.format that core.bulk descriptions use (PROTOCOL.md 6.5):
// `{0}`, `{}` (next), `{0[name]}`, `{0.attr}`, and `{{` / `}}` escapes.

function show(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function lookup(args: readonly unknown[], field: string, auto: { next: number }): unknown {
  const m = /^(\d*)((?:\[[^\]]*\]|\.[A-Za-z_]\w*)*)(?:![rsa])?(?::.*)?$/.exec(field);
  if (!m) return `{${field}}`;
  let value: unknown = args[m[1] === '' ? auto.next++ : Number(m[1])];
  for (const part of m[2]!.match(/\[[^\]]*\]|\.[A-Za-z_]\w*/g) ?? []) {
    const key = part.startsWith('[') ? part.slice(1, -1) : part.slice(1);
    if (value === null || typeof value !== 'object') return undefined;
    value = Array.isArray(value) && /^\d+$/.test(key) ? value[Number(key)] : (value as Record<string, unknown>)[key];
  }
  return value;
}

export function pyFormat(template: string, args: readonly unknown[]): string {
  const auto = { next: 0 };
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (whole, field: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    return show(lookup(args, field ?? '', auto));
  });
}
