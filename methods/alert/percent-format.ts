// The subset of Python's %-formatting that TrueNAS alert texts use: `%(name)s` / `%(name)d` of
// object args, `%s` / `%d` / `%r` of a scalar args or of array args' items in turn, `%%`. An alert
// whose text does not fit its args shows the bare text rather than failing the list.

function show(v: unknown, conversion: string): string {
  if (conversion === 'd' || conversion === 'i') {
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isFinite(n)) throw new TypeError(`%${conversion} needs a number`);
    return String(Math.trunc(n));
  }
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (conversion === 'r' && typeof v === 'string') return `'${v}'`;
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
}

/** The text with its args filled in; throws TypeError when they do not fit. */
export function percentFormat(template: string, args: unknown): string {
  const list = Array.isArray(args) ? args : [args];
  let next = 0;
  return template.replace(/%(?:\(([^)]*)\))?([sdir%])/g, (_whole, name: string | undefined, conversion: string) => {
    if (conversion === '%') return '%';
    if (name !== undefined) {
      if (args === null || typeof args !== 'object' || Array.isArray(args) || !(name in args)) throw new TypeError(`no field ${name} in the args`);
      return show((args as Record<string, unknown>)[name], conversion);
    }
    if (next >= list.length) throw new TypeError('not enough args');
    return show(list[next++], conversion);
  });
}

/** percentFormat, or null when the args do not fit the text. */
export function formatAlertText(template: string, args: unknown): string | null {
  try {
    return percentFormat(template, args);
  } catch {
    return null;
  }
}
