#!/usr/bin/env node
// midshipd: run the daemon in the foreground until SIGTERM or SIGINT. This file joins the engine
// and its modules: it hands the Daemon methods/index.ts's list (or MIDSHIP_MODULES's); nothing
// else in daemon/ knows a module.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { modules as builtIn } from '../methods/index.js';
import { fleetCommand } from '../methods/fleet/init-command.js';
import { loadConfig, type Config } from './config.js';
import { Daemon } from './daemon.js';
import { ConfigError, DataDirError } from './errors.js';
import type { ModuleFactory } from './registry.js';
import { repairDatabase } from './repair.js';

/** The built-in modules, or the list exported as `modules` by the file MIDSHIP_MODULES names. */
async function moduleList(modulesPath: string | null): Promise<readonly ModuleFactory[]> {
  if (modulesPath === null) return builtIn;
  const url = pathToFileURL(resolve(modulesPath)).href;
  const mod = (await import(url)) as { modules?: ModuleFactory[] };
  if (!Array.isArray(mod.modules)) throw new Error(`${modulesPath} does not export 'modules'`);
  return mod.modules;
}

/** The two lines a new user needs: where the dashboard is and how to log in to it. */
function greeting(config: Config, port: number): string {
  const wildcard = config.host === '0.0.0.0' || config.host === '::' || config.host === '';
  const host = wildcard ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const file = join(config.dataDir, 'admin-password');
  const login = existsSync(file)
    ? `log in as admin with the password in ${file}`
    : config.adminPassword !== null
      ? 'log in as admin with the password from MIDSHIP_ADMIN_PASSWORD'
      : 'log in as admin with the password chosen when this data dir was created';
  const webui = config.webuiDir === null ? '' : `midshipd: TrueNAS web UI at http://${host}:${port}/webui/\n`;
  return `midshipd: dashboard at http://${host}:${port}/ui/\n${webui}midshipd: ${login}\n`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'fleet') {
    // `midshipd fleet init ...`: writes files and exits; no daemon starts.
    const code = await fleetCommand(argv.slice(1), (l) => process.stdout.write(`${l}\n`), (l) => process.stderr.write(`${l}\n`));
    process.exit(code);
  }
  const repair = argv.includes('--repair-db');
  let config;
  try {
    config = loadConfig(argv.filter((a) => a !== '--repair-db'), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.message.startsWith('usage:') ? 0 : 2);
    }
    throw err;
  }
  if (repair) {
    try {
      await repairDatabase(config.dataDir, (line) => process.stdout.write(`${line}\n`));
      process.exit(0);
    } catch (err) {
      process.stderr.write(`midshipd --repair-db: ${err instanceof DataDirError ? err.message : (err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    }
  }
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(config, await moduleList(config.modulesPath));
  } catch (err) {
    process.stderr.write(`midshipd: ${(err as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(greeting(config, daemon.port));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    daemon.log.info({ signal }, 'shutting down');
    // Whatever happens, be gone within 5 s.
    setTimeout(() => process.exit(1), 5000).unref();
    daemon.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`midshipd: shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
