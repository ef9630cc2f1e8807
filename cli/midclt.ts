#!/usr/bin/env node
// midclt: the command-line client. Compatible with TrueNAS midclt (call, ping, subscribe and
// their flags, output and exit codes), plus jobs, job, abort, wait, logs, methods and bulk.
import { Command, CommanderError, Option } from 'commander';
import { runBulk } from './commands/bulk.js';
import { runCall } from './commands/call.js';
import { runFleetCall, runFleetHosts, runFleetJobs, type FleetGlobals } from './commands/fleet.js';
import { runPing, runSubscribe } from './commands/events.js';
import { runAbort, runJob, runJobs, runWait } from './commands/jobs.js';
import { runLogs } from './commands/logs.js';
import { runMethods } from './commands/methods.js';
import { Exit, type GlobalOptions } from './context.js';

let exitCode = 0;

const progressOption = () =>
  new Option('-p, --job-print <style>', 'progress display: progressbar (a live bar on a terminal, description lines otherwise) or description').choices(['progressbar', 'description']).default('progressbar');

function build(): Command {
  const program = new Command('midclt');
  program
    .description('Talk to midshipd (or TrueNAS middlewared) over its JSON-RPC WebSocket API.')
    .exitOverride()
    .enablePositionalOptions()
    .option('-u, --uri <uri>', 'ws://host:6000/api/current, wss://..., ws://host/websocket (legacy) or ws+unix:///path (default: ./data/middlewared.sock, or env MIDCLT_URI)')
    .option('-U, --username <user>', 'log in as this user (asks for the password without -P or -K)')
    .option('-P, --password <password>', 'password for -U')
    .option('-K, --api-key <key>', 'API key <id>-<secret>, or an absolute path to a file holding it')
    .option('-t, --timeout <seconds>', 'per-call timeout (default 60, or env CALL_TIMEOUT)')
    .option('--insecure', 'do not verify TLS certificates (wss://)')
    .option('--no-channel-binding', 'SCRAM without TLS channel binding (Midship never binds; accepted for compatibility)')
    .option('--plain', 'send the API key with API_KEY_PLAIN instead of SCRAM')
    .option('--reconnect-timeout <seconds>', 'how long to keep reconnecting while following a job (default 60, or env MIDCLT_RECONNECT_TIMEOUT)')
    .option('--json', 'machine-readable JSON output for every subcommand')
    .option('--fleet <url>', 'a fleet\'s NATS server, e.g. nats://127.0.0.1:4222 (fleet hosts, fleet jobs, --host)')
    .option('--fleet-creds <file>', 'the fleet signer key (signer.key of `midshipd fleet init`, mode 0600)')
    .option('--host <id>', 'with --fleet: call runs on this fleet host instead of through --uri')
    .option('--fleet-user <name>', 'the user fleet calls are signed for (default: your user name)')
    .option('--fleet-roles <roles>', 'comma-separated roles fleet calls claim (default FULL_ADMIN; each host caps them)')
    .addHelpText('after', `
Exit codes: 0 success, 1 failed call/job or connection error, 2 usage error
            (wait: 2 when the job was ABORTED), 130 interrupted (Ctrl-C).

Examples:
  midclt ping
  midclt call core.get_jobs '[["state", "=", "RUNNING"]]' '{"order_by": ["-id"]}'
  midclt call -j core.bulk core.ping '[[], []]'
  echo '[["state", "=", "FAILED"]]' | midclt call core.get_jobs -
  midclt -u ws://nas:6000/api/current -U admin -P secret call core.get_methods
  midclt jobs --state RUNNING
  midclt wait 42
  midclt logs -f 42
  midclt methods core.
  printf '[41]\\n[42]\\n' | midclt bulk core.job_abort
  midclt subscribe -n 1 core.get_jobs
  midclt --fleet nats://127.0.0.1:4222 --fleet-creds fleet/signer.key fleet hosts
  midclt --fleet nats://127.0.0.1:4222 --fleet-creds fleet/signer.key --host h1 call -j core.bulk core.ping '[[]]'`);

  const globals = (cmd: Command): GlobalOptions => cmd.optsWithGlobals<GlobalOptions>();
  const json = () => new Option('--json', 'machine-readable JSON output');

  program
    .command('call')
    .description('Call METHOD with arguments, each parsed as JSON if it can be, else taken as a string; "-" reads one JSON value from stdin.')
    .argument('<method>', 'method name, e.g. core.get_jobs')
    .argument('[args...]', 'arguments')
    .option('-q, --quiet', 'do not print errors')
    .option('-j, --job', 'for a job method: wait for the job, showing its progress; Ctrl-C aborts it (exit 130)')
    .addOption(progressOption())
    .addOption(json())
    .passThroughOptions()
    .addHelpText('after', `
Output: integers and strings bare, booleans True/False, anything else as one line of JSON.
Without -j a job method prints its job id and returns at once.

Examples:
  midclt call core.ping
  midclt call core.get_jobs '[["method", "=", "core.bulk"]]' '{"limit": 5}'
  midclt call -j core.bulk core.ping '[[], [], []]'
  midclt call -jp description core.job_wait 42
  echo '[["state", "=", "FAILED"]]' | midclt call core.get_jobs -`)
    .action(async (method: string, args: string[], o: { quiet?: boolean; job?: boolean; jobPrint?: 'progressbar' | 'description'; json?: boolean }, cmd: Command) => {
      const g = globals(cmd) as FleetGlobals;
      exitCode = g.host !== undefined ? await runFleetCall(g, o, method, args) : await runCall(g, o, method, args);
    });

  program
    .command('ping')
    .description('Check that the daemon answers (prints "pong").')
    .addOption(json())
    .action(async (o: { json?: boolean }, cmd: Command) => {
      exitCode = await runPing(globals(cmd), o);
    });

  program
    .command('subscribe')
    .description('Print each event of EVENT as one JSON line.')
    .argument('<event>', 'event name, "*", or an event source with arguments like core.job_logs:{"id": 7}')
    .option('-n, --number <n>', 'exit after N events')
    .option('-t, --timeout <seconds>', 'exit 1 if this much time passes first')
    .addOption(json())
    .addHelpText('after', `
Examples:
  midclt subscribe -n 1 core.get_jobs
  midclt subscribe 'core.job_logs:{"id": 42}'`)
    .action(async (event: string, o: { number?: string; timeout?: string; json?: boolean }, cmd: Command) => {
      exitCode = await runSubscribe(cmd.parent!.opts<GlobalOptions>(), event, o);
    });

  program
    .command('jobs')
    .description('A table of jobs, newest first: id, method, state, progress, started, duration.')
    .option('-s, --state <state...>', 'only jobs in these states (WAITING, RUNNING, SUCCESS, FAILED, ABORTED; comma-separated or repeated)')
    .option('-m, --method <method>', 'only this method (a trailing "." or "*" makes it a prefix)')
    .option('-l, --limit <n>', 'at most N jobs (default 20, 0: all)')
    .addOption(json())
    .addHelpText('after', `
Examples:
  midclt jobs
  midclt jobs --state RUNNING,WAITING
  midclt jobs --method core.bulk --limit 5`)
    .action(async (o: { state?: string[]; method?: string; limit?: string; json?: boolean }, cmd: Command) => {
      exitCode = await runJobs(globals(cmd), o);
    });

  program
    .command('job')
    .description('Everything about one job.')
    .argument('<id>', 'job id')
    .addOption(json())
    .addHelpText('after', '\nExample:\n  midclt job 42')
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      exitCode = await runJob(globals(cmd), id, o);
    });

  program
    .command('abort')
    .description('Ask the daemon to abort a job.')
    .argument('<id>', 'job id')
    .addOption(json())
    .addHelpText('after', '\nExample:\n  midclt abort 42')
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      exitCode = await runAbort(globals(cmd), id, o);
    });

  program
    .command('wait')
    .description('Follow a job to its end with a progress bar; exit 0 SUCCESS, 1 FAILED, 2 ABORTED. Survives daemon restarts. Ctrl-C stops waiting (the job continues).')
    .argument('<id>', 'job id')
    .option('-q, --quiet', 'do not print errors')
    .addOption(progressOption())
    .addOption(json())
    .addHelpText('after', '\nExample:\n  midclt wait 42 && echo done')
    .action(async (id: string, o: { json?: boolean; quiet?: boolean; jobPrint?: 'progressbar' | 'description' }, cmd: Command) => {
      exitCode = await runWait(globals(cmd), id, o);
    });

  program
    .command('logs')
    .description("Print a job's log; with -f, follow it live until the job ends.")
    .argument('<id>', 'job id')
    .option('-f, --follow', 'keep printing new log lines until the job ends')
    .addOption(json())
    .addHelpText('after', '\nExamples:\n  midclt logs 42\n  midclt logs -f 42')
    .action(async (id: string, o: { follow?: boolean; json?: boolean }, cmd: Command) => {
      exitCode = await runLogs(globals(cmd), id, o);
    });

  program
    .command('methods')
    .description('List methods with one-line descriptions; for one method name, its description and arguments.')
    .argument('[prefix]', 'only methods starting with this, e.g. "core." or a full method name')
    .addOption(json())
    .addHelpText('after', '\nExamples:\n  midclt methods\n  midclt methods core.\n  midclt methods core.get_jobs')
    .action(async (prefix: string | undefined, o: { json?: boolean }, cmd: Command) => {
      exitCode = await runMethods(globals(cmd), prefix, o);
    });

  program
    .command('bulk')
    .description('Read one JSON array of arguments per stdin line and call METHOD with each, in one core.bulk job. Prints one line per input: ok<TAB>result or error<TAB>reason; exit 1 if any failed.')
    .argument('<method>', 'method to call for each line')
    .option('-d, --description <text>', 'progress text per call; {0}, {1}... are the call\'s arguments')
    .addOption(progressOption())
    .addOption(json())
    .addHelpText('after', `
Example:
  printf '[41]\\n[42]\\n' | midclt bulk core.job_abort -d 'aborting job {0}'`)
    .action(async (method: string, o: { description?: string; jobPrint?: 'progressbar' | 'description'; json?: boolean }, cmd: Command) => {
      exitCode = await runBulk(globals(cmd), method, o);
    });

  const fleet = program
    .command('fleet')
    .description('The fleet over NATS (with --fleet URL --fleet-creds signer.key): its hosts and its job history.');
  fleet
    .command('hosts')
    .description('Every host that joined: online, offline (3 heartbeats missed) or stopped, with its job counts.')
    .addOption(json())
    .action(async (o: { json?: boolean }, cmd: Command) => {
      exitCode = await runFleetHosts(globals(cmd) as FleetGlobals, o);
    });
  fleet
    .command('jobs')
    .description("The fleet's jobs from the history stream, each once with its newest state, oldest first.")
    .option('--host <id>', 'only this host\'s jobs')
    .option('-s, --state <state>', 'only jobs in this state (WAITING, RUNNING, SUCCESS, FAILED, ABORTED)')
    .addOption(json())
    .action(async (o: { host?: string; state?: string; json?: boolean }, cmd: Command) => {
      exitCode = await runFleetJobs(globals(cmd) as FleetGlobals, o);
    });

  return program;
}

function flushAndExit(code: number): void {
  // process.exit can cut off output still queued for a pipe; wait for both streams to drain.
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

async function main(): Promise<void> {
  try {
    await build().parseAsync(process.argv);
  } catch (e) {
    if (e instanceof Exit) {
      for (const l of e.lines) process.stderr.write(`${l}\n`);
      exitCode = e.code;
    } else if (e instanceof CommanderError) {
      // Help and version are successes; usage errors exit 2, as argparse does.
      exitCode = e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? 0 : 2;
    } else {
      process.stderr.write(`midclt: ${(e as Error)?.stack ?? String(e)}\n`);
      exitCode = 1;
    }
  }
  flushAndExit(exitCode);
}

void main();
