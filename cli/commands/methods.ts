// midclt methods [PREFIX]: the methods the session may call with one-line descriptions; for one
// method, its description and argument schema.
import { argumentsText } from '../schema-text.js';
import { Exit, err, failure, openSession, out, type GlobalOptions } from '../context.js';
import { table } from '../format.js';

interface MethodMeta {
  description?: string | null;
  cli_description?: string | null;
  job?: boolean;
  no_auth_required?: boolean;
  roles?: string[];
  accepts?: unknown;
  examples?: Record<string, string[]>;
  [k: string]: unknown;
}

function firstLine(m: MethodMeta): string {
  return (m.cli_description ?? m.description ?? '').split('\n')[0] ?? '';
}

function detail(name: string, m: MethodMeta): string[] {
  const lines = [name, ''];
  for (const l of (m.description ?? '').split('\n')) lines.push(`  ${l}`);
  lines.push('');
  const kind = [m.job ? 'job (follow it with midclt call -j)' : 'plain call', m.no_auth_required ? 'no login needed' : null].filter(Boolean).join(', ');
  lines.push(`Kind: ${kind}`);
  if (m.roles && m.roles.length > 0) lines.push(`Roles: ${m.roles.join(', ')}`);
  lines.push('Arguments:', ...argumentsText(m.accepts));
  const examples = Object.values(m.examples ?? {}).flat();
  if (examples.length > 0) lines.push('Examples:', ...examples.map((e) => `  ${e}`));
  return lines;
}

export async function runMethods(g: GlobalOptions, prefix: string | undefined, o: { json?: boolean }): Promise<number> {
  const json = o.json || g.json;
  const session = await openSession(g);
  try {
    let all: Record<string, MethodMeta>;
    try {
      all = await session.client.call<Record<string, MethodMeta>>('core.get_methods');
    } catch (e) {
      throw failure(e, { json });
    }
    const exact = prefix !== undefined ? all[prefix] : undefined;
    if (exact) {
      if (json) out(JSON.stringify({ [prefix!]: exact }));
      else out(detail(prefix!, exact).join('\n'));
      return 0;
    }
    const names = Object.keys(all).filter((n) => prefix === undefined || n.startsWith(prefix)).sort();
    if (json) {
      out(JSON.stringify(Object.fromEntries(names.map((n) => [n, all[n]]))));
      return 0;
    }
    if (names.length === 0) throw new Exit(1, [`No method starts with '${prefix}'`]);
    out(table(['METHOD', 'JOB', 'DESCRIPTION'], names.map((n) => [n, all[n]!.job ? 'job' : '', firstLine(all[n]!)])));
    if (names.length === 1) err(`(details: midclt methods ${names[0]})`);
    return 0;
  } finally {
    await session.close().catch(() => undefined);
  }
}
