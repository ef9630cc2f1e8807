// `zdb -C` with no pool prints the cache file: per pool an indented nvlist ("key: value",
// "children[N]:"). zfs-fuse's `zpool status` has no -g, so this is where vdev guids come from.
import { ZfsParseError } from './errors.js';

export interface ZdbVdev {
  type: string;
  id: number | null;
  guid: string | null;
  path: string | null;
  isLog: boolean;
  nparity: number | null;
  /** Allocatable size of a top-level vdev in bytes. */
  asize: number | null;
  children: ZdbVdev[];
}

export interface ZdbPool {
  name: string;
  guid: string | null;
  tree: ZdbVdev | null;
}

interface Nv {
  values: Map<string, string>;
  children: Map<string, Nv>;
}

function unquote(v: string): string {
  return v.startsWith("'") && v.endsWith("'") && v.length >= 2 ? v.slice(1, -1) : v;
}

function toVdev(nv: Nv): ZdbVdev {
  const num = (k: string) => {
    const v = nv.values.get(k);
    return v !== undefined && /^\d+$/.test(v) ? v : null;
  };
  const children: ZdbVdev[] = [];
  for (let i = 0; nv.children.has(`children[${i}]`); i++) children.push(toVdev(nv.children.get(`children[${i}]`)!));
  return {
    type: unquote(nv.values.get('type') ?? ''),
    id: num('id') === null ? null : Number(num('id')),
    guid: num('guid'),
    path: nv.values.has('path') ? unquote(nv.values.get('path')!) : null,
    isLog: nv.values.get('is_log') === '1',
    nparity: num('nparity') === null ? null : Number(num('nparity')),
    asize: num('asize') === null ? null : Number(num('asize')),
    children,
  };
}

export function parseZdbConfig(text: string): ZdbPool[] {
  const pools: ZdbPool[] = [];
  // Stack of (indent, node); a pool header is a line at indent 0 ending in ':'.
  let stack: Array<{ indent: number; nv: Nv }> = [];
  const roots: Array<{ name: string; nv: Nv }> = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const indent = line.length - line.trimStart().length;
    const body = line.trim();
    if (indent === 0) {
      if (!body.endsWith(':')) throw new ZfsParseError('zdb -C output', line);
      const nv: Nv = { values: new Map(), children: new Map() };
      roots.push({ name: body.slice(0, -1), nv });
      stack = [{ indent: 0, nv }];
      continue;
    }
    while (stack.length > 1 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const parent = stack[stack.length - 1];
    if (!parent) throw new ZfsParseError('zdb -C output', line);
    const colon = body.indexOf(':');
    if (colon < 0) throw new ZfsParseError('zdb -C output', line);
    const key = body.slice(0, colon);
    const value = body.slice(colon + 1).trim();
    if (value === '') {
      const nv: Nv = { values: new Map(), children: new Map() };
      parent.nv.children.set(key, nv);
      stack.push({ indent, nv });
    } else {
      parent.nv.values.set(key, value);
    }
  }
  for (const r of roots) {
    const tree = r.nv.children.get('vdev_tree');
    const guid = r.nv.values.get('pool_guid');
    pools.push({ name: unquote(r.nv.values.get('name') ?? `'${r.name}'`), guid: guid && /^\d+$/.test(guid) ? guid : null, tree: tree ? toVdev(tree) : null });
  }
  return pools;
}
