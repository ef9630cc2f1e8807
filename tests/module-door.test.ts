// The module door (daemon/module-api.ts): method modules reach the engine only through it, under
// one name at every depth (`#midship/module-api`, package.json "imports"); the driver folders that
// talk to the outside world (methods/zfs, disk, host, delivery, scheduling) not at all (they may
// use each other and the wire schemas of schemas/).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const DOOR = '#midship/module-api';
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const methodsDir = join(root, 'methods');
const daemonDir = join(root, 'daemon');
const schemasDir = join(root, 'schemas');
/** Folders of methods/ that drive an outside system and must stay free of the engine. */
const PURE = ['zfs', 'disk', 'host', 'delivery', 'scheduling', 'fleet'];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...tsFiles(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/**
 * Every module specifier of a source file: `import ... from 'x'`, `export ... from 'x'`,
 * `import 'x'` and `import('x')`. Comments are blanked first so that prose cannot hide or fake one.
 */
export function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of code.matchAll(/\b(?:from|import)\s*\(?\s*(['"])([^'"]+)\1/g)) out.push(m[2]!);
  return out;
}

/** What is wrong with one import of `file` (null: nothing). */
function problem(file: string, spec: string): string | null {
  const folder = relative(methodsDir, file).split(sep)[0]!;
  const pure = PURE.includes(folder);
  if (spec.startsWith('#')) {
    if (spec !== DOOR) return `${spec}: the only engine import is ${DOOR}`;
    return pure ? `methods/${folder}/ is a driver folder: it must not import the engine at all` : null;
  }
  if (!spec.startsWith('.')) return null; // a package
  const target = resolve(dirname(file), spec);
  if (target === daemonDir || target.startsWith(daemonDir + sep)) {
    return `${spec}: engine code is imported from ${DOOR} only, never by path (also not module-api.js itself)`;
  }
  if (pure && !target.startsWith(methodsDir + sep) && !target.startsWith(schemasDir + sep)) return `${spec}: methods/${folder}/ imports nothing but methods/ and schemas/`;
  return null;
}

test('the scanner finds every kind of import and ignores comments', () => {
  const src = [
    "import { a } from '../daemon/x.js';",
    "import type {\n  b,\n} from \"#midship/module-api\";",
    "export { c } from './c.js';",
    "import './side-effect.js';",
    "const m = await import('../daemon/y.js');",
    "// import { z } from '../daemon/commented.js';",
    "/* from '../daemon/block.js' */",
    "const url = 'http://example.com/'; // from '../daemon/trailing.js'",
  ].join('\n');
  assert.equal(specifiers(src), ['../daemon/x.js', '#midship/module-api', './c.js', './side-effect.js', '../daemon/y.js']);
});

test('the rules refuse engine paths, other #imports and engine imports from driver folders', () => {
  const cron = join(methodsDir, 'cronjob', 'run.ts');
  const zfs = join(methodsDir, 'zfs', 'pools.ts');
  assert.ok(problem(cron, '../../daemon/errors.js'));
  assert.ok(problem(cron, '../../daemon/module-api.js'), 'the door by path is refused too: one specifier at every depth');
  assert.ok(problem(cron, '#midship/other'));
  assert.is(problem(cron, DOOR), null);
  assert.is(problem(cron, '../../schemas/cronjob.js'), null);
  assert.ok(problem(zfs, DOOR));
  assert.is(problem(zfs, '../../schemas/query.js'), null);
  assert.ok(problem(zfs, '../../cli/client.js'));
  assert.is(problem(zfs, './types.js'), null);
  assert.is(problem(join(methodsDir, 'disk', 'sysfs.ts'), '../zfs/types.js'), null);
});

test('method modules, and the example module of docs/modules.md, import the engine only through the door', () => {
  const files = [...tsFiles(methodsDir), ...tsFiles(join(root, 'docs', 'examples'))];
  assert.ok(files.length > 50, `found ${files.length} files under methods/`);
  const bad: string[] = [];
  let doorUsers = 0;
  for (const file of files) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const why = problem(file, spec);
      if (why !== null) bad.push(`${relative(root, file)}: ${why}`);
      if (spec === DOOR) doorUsers++;
    }
  }
  assert.equal(bad, []);
  assert.ok(doorUsers >= 8, `${doorUsers} imports of the door`);
});

test('schemas/ describe the wire and import neither the modules nor the engine', () => {
  const bad: string[] = [];
  for (const file of tsFiles(join(root, 'schemas'))) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const target = spec.startsWith('.') ? resolve(dirname(file), spec) : '';
      if (spec.startsWith('#') || target.startsWith(methodsDir + sep) || target.startsWith(daemonDir + sep)) bad.push(`${relative(root, file)}: ${spec}`);
    }
  }
  assert.equal(bad, []);
});

test('docs/modules.md shows its example module and the module\'s test word for word (both compiled and run)', () => {
  const doc = readFileSync(join(root, 'docs', 'modules.md'), 'utf8');
  for (const file of ['docs/examples/notes.ts', 'tests/example-module.test.ts']) {
    assert.ok(doc.includes(`\`\`\`ts\n${readFileSync(join(root, file), 'utf8')}\`\`\``), `${file} is in docs/modules.md as it is`);
  }
});

test('package.json maps the door to the engine source for tsc and to its build for node', async () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { imports?: Record<string, Record<string, string>> };
  const entry = pkg.imports?.[DOOR];
  assert.equal(entry, { types: './daemon/module-api.ts', default: './dist/daemon/module-api.js' });
  // This file runs from dist/tests: node resolves the door to the built module next to it.
  assert.is(fileURLToPath(import.meta.resolve(DOOR)), join(root, 'dist', 'daemon', 'module-api.js'));
  const door = (await import(DOOR)) as Record<string, unknown>;
  for (const name of ['method', 'arg', 'queryMethod', 'CallError', 'ValidationErrors', 'ERRNO', 'mayCall', 'Type']) assert.ok(name in door, name);
});

test.run();
