#!/usr/bin/env node
// midshipd: run the daemon in the foreground until SIGTERM or SIGINT.
import { ConfigError, loadConfig } from './config.js';
import { Daemon } from './daemon.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.message.startsWith('usage:') ? 0 : 2);
    }
    throw err;
  }
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(config);
  } catch (err) {
    process.stderr.write(`midshipd: ${(err as Error).message}\n`);
    process.exit(1);
  }
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
