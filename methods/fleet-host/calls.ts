// Fleet calls on this host: a request the responder verified (a trusted signer vouched for the
// user and roles) runs through the daemon's own dispatcher with credentials FLEET(user, roles
// capped by MIDSHIP_FLEET_MAX_ROLES), so the roles decide as for any other caller, and a
// permissive or hostile NATS server can deliver a request but never widen it. Every call is
// audited here (the dispatcher audits only calls made over a connection). A job method answers
// with its job id as soon as the job exists; its end reaches the fleet through the history.
import { roleGranted, type App, type Credentials } from '#midship/module-api';
import type { FleetCall, FleetDispatcher } from '../fleet/index.js';

/**
 * What a claim of `claimed` is worth on a host capped at `cap`: every claimed role the cap grants
 * and every cap role the claim grants (claim FULL_ADMIN under a READONLY_ADMIN cap gives
 * READONLY_ADMIN; claim READONLY_ADMIN under FULL_ADMIN stays READONLY_ADMIN).
 */
export function capRoles(claimed: readonly string[], cap: readonly string[]): string[] {
  const out = new Set<string>();
  for (const r of claimed) if (roleGranted(cap, r)) out.add(r);
  for (const r of cap) if (roleGranted(claimed, r)) out.add(r);
  return [...out].sort();
}

export function fleetCredentials(call: FleetCall, cap: readonly string[]): Credentials {
  return { type: 'FLEET', username: call.user, userId: null, roles: capRoles(call.roles, cap), loginId: `fleet:${call.signer}`, loginAt: Date.now() };
}

export function fleetDispatcher(app: App, cap: () => readonly string[]): FleetDispatcher {
  return async (call) => {
    const credentials = fleetCredentials(call, cap());
    const m = app.registry.get(call.method);
    let ok = false;
    try {
      const result = m?.def.job ? await startJob(app, call, credentials) : await app.call(call.method, call.params, { credentials, authorize: true });
      ok = true;
      return result;
    } finally {
      let args: unknown = [];
      try {
        args = m ? m.redactArgs(call.params) : [];
      } catch {
        args = '(unreadable)';
      }
      app.log.info({ audit: true, user: call.user, cred: 'FLEET', conn: 'fleet', remote: `signer:${call.signer}`, roles: credentials.roles, method: call.method, args, ok }, 'audit');
    }
  };
}

/** Resolves with the job id once the job exists; refusals (roles, arguments, limits) reject. */
function startJob(app: App, call: FleetCall, credentials: Credentials): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let started = false;
    app.call(call.method, call.params, {
      credentials,
      authorize: true,
      onJob: (id) => {
        started = true;
        resolve(id);
      },
    }).then(
      () => undefined,
      (err: unknown) => {
        // After the job started, its failure belongs to the job (and its history), not the call.
        if (!started) reject(err);
      },
    );
  });
}
