// auth.*: logins (PROTOCOL.md 8.2-8.4), tokens, who am I, logout, sessions (TrueNAS's auth.sessions,
// auth.terminate_session, auth.terminate_other_sessions).
import { arg, CallError, ERRNO, method, queryMethod, SESSIONS_EVENT, ValidationErrors, type App, type CallContext, type ConnectionInfo, type Credentials, type LoginResult, type ModuleDef } from '#midship/module-api';
import {
  ApiKeySecret,
  AttributeKey,
  AttributeValue,
  LoginData,
  LoginExResult,
  LoginSucceeded,
  LogoutResult,
  SessionId,
  TerminateOtherSessionsResult,
  TerminateSessionResult,
  MatchOrigin,
  MeResult,
  MechanismChoices,
  OtpLoginData,
  OtpToken,
  Password,
  SingleUse,
  Token,
  TokenAttrs,
  TokenTtl,
  SetAttributeResult,
  Username,
  type LoginDataT,
  type LoginOptionsT,
} from '../schemas/auth.js';
import { AttributeStore } from './auth/attributes.js';
import { attributeOwner, principal, userInfo } from './auth/user-info.js';

const MECHANISMS = ['API_KEY_PLAIN', 'TOKEN_PLAIN', 'PASSWORD_PLAIN', 'SCRAM'];

function connectionOf(ctx: CallContext): ConnectionInfo {
  if (ctx.connection === null) throw new CallError('Logins need a client connection', ERRNO.EINVAL);
  return ctx.connection;
}

/** TrueNAS's reconnect-token lifetimes: the UI's session lifetime preference, within these bounds. */
const RECONNECT_TTL_DEFAULT = 600;
const RECONNECT_TTL_MIN = 60;
const RECONNECT_TTL_MAX = 86_400 * 30;

function reconnectTtl(attributes: Record<string, unknown>): number {
  const lifetime = (attributes.preferences as { lifetime?: unknown } | undefined)?.lifetime;
  if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < RECONNECT_TTL_MIN) return RECONNECT_TTL_DEFAULT;
  return Math.min(lifetime, RECONNECT_TTL_MAX);
}

export function authModule(app: App): ModuleDef {
  const auth = app.auth;
  const attributes = new AttributeStore(app.sublevel('user_attributes'));
  const whoAmI = (c: Credentials) => userInfo(app, attributes, c);

  /**
   * A single-use token that logs this session's account in again (the web UI keeps it to survive a
   * reload and chains a new one at each use, as TrueNAS does). Made by this session, so it is
   * revoked with it (logout, termination) and counts against the account's token cap; an account
   * at its cap logs in without one.
   */
  const reconnectToken = async (conn: ConnectionInfo, c: Credentials): Promise<string | null> => {
    try {
      return await auth.generateToken(conn, c, reconnectTtl(attributes.get(attributeOwner(principal(c)))), {}, true, true);
    } catch (err) {
      if (!(err instanceof CallError)) throw err;
      app.log.warn({ conn: conn.id, user: c.username, reason: err.message }, 'login without a reconnect token');
      return null;
    }
  };

  const respond = async (conn: ConnectionInfo, r: LoginResult, options: LoginOptionsT | undefined): Promise<Record<string, unknown>> => {
    if (r.type !== 'SUCCESS') return { response_type: r.type };
    return {
      response_type: 'SUCCESS',
      user_info: (options?.user_info ?? true) ? whoAmI(r.credentials) : null,
      authenticator: 'LEVEL_1',
      reconnect_token: options?.reconnect_token === true ? await reconnectToken(conn, r.credentials) : null,
    };
  };

  const loginEx = async (ctx: CallContext, data: LoginDataT): Promise<Record<string, unknown>> => {
    const conn = connectionOf(ctx);
    if (data.mechanism !== 'SCRAM') auth.abandonScram(conn);
    switch (data.mechanism) {
      case 'PASSWORD_PLAIN':
        return respond(conn, await auth.loginPassword(conn, data.username, data.password), data.login_options);
      case 'API_KEY_PLAIN':
        return respond(conn, await auth.loginApiKey(conn, data.username, data.api_key), data.login_options);
      case 'TOKEN_PLAIN':
        return respond(conn, await auth.loginToken(conn, data.token), data.login_options);
      case 'OTP_TOKEN':
        throw new ValidationErrors([['login_data.otp_token', 'OTP_TOKEN: no authentication in progress', ERRNO.EINVAL]]);
      case 'SCRAM': {
        if (data.scram_type === 'CLIENT_FIRST_MESSAGE') {
          return { response_type: 'SCRAM_RESPONSE', scram_type: 'SERVER_FIRST_RESPONSE', rfc_str: auth.scramStart(conn, data.rfc_str), user_info: null };
        }
        const { result, serverFinal } = await auth.scramFinish(conn, data.rfc_str);
        if (result.type !== 'SUCCESS') return { response_type: result.type };
        return { response_type: 'SCRAM_RESPONSE', scram_type: 'SERVER_FINAL_RESPONSE', rfc_str: serverFinal, user_info: whoAmI(result.credentials) };
      }
    }
  };

  return {
    async start() {
      await attributes.open((owner) => owner === 'root' || auth.users.get(Number(owner.slice('user:'.length))) !== undefined);
    },
    services: [{ name: 'auth', type: 'service', cliDescription: 'Logins, tokens and sessions' }],
    methods: [
      method('auth.mechanism_choices', {
        description: 'Login mechanisms this daemon accepts.',
        args: [],
        result: MechanismChoices,
        noAuth: true,
        handler: () => MECHANISMS,
      }),
      method('auth.login_ex', {
        description: 'Log in with PASSWORD_PLAIN, API_KEY_PLAIN, TOKEN_PLAIN or SCRAM (two steps). Answers SUCCESS, AUTH_ERR (after a constant delay), EXPIRED, DENIED or SCRAM_RESPONSE.',
        args: [arg('login_data', LoginData)],
        result: LoginExResult,
        noAuth: true,
        login: true,
        audit: false,
        handler: loginEx,
      }),
      method('auth.login_ex_continue', {
        description: 'Continue a multi-step login (OTP). Midship has no second factor: always an error.',
        args: [arg('login_data', OtpLoginData)],
        result: LoginExResult,
        noAuth: true,
        handler: () => {
          throw new ValidationErrors([['login_data.otp_token', 'OTP_TOKEN: no authentication in progress', ERRNO.EINVAL]]);
        },
      }),
      method('auth.login', {
        description: 'Log in with a username and password (older entry point). Returns true on success.',
        args: [arg('username', Username), arg('password', Password), arg('otp_token', OtpToken, { default: null })],
        result: LoginSucceeded,
        noAuth: true,
        login: true,
        handler: async (ctx, username, password) => (await auth.loginPassword(connectionOf(ctx), username, password)).type === 'SUCCESS',
      }),
      method('auth.login_with_api_key', {
        description: 'Log in with an API key "<id>-<secret>" (older entry point). Returns true on success.',
        args: [arg('api_key', ApiKeySecret)],
        result: LoginSucceeded,
        noAuth: true,
        login: true,
        handler: async (ctx, key) => (await auth.loginApiKey(connectionOf(ctx), null, key)).type === 'SUCCESS',
      }),
      method('auth.login_with_token', {
        description: 'Log in with a token from auth.generate_token. Returns true on success.',
        args: [arg('token', Token)],
        result: LoginSucceeded,
        noAuth: true,
        login: true,
        handler: async (ctx, token) => (await auth.loginToken(connectionOf(ctx), token)).type === 'SUCCESS',
      }),
      method('auth.generate_token', {
        description: 'A token (ttl seconds, refreshed by use) that logs in as the caller: auth.login_with_token or TOKEN_PLAIN. single_use tokens work once; match_origin binds it to the caller\'s address.',
        args: [
          arg('ttl', TokenTtl, { default: 600 }),
          arg('attrs', TokenAttrs, { default: {} }),
          arg('match_origin', MatchOrigin, { default: true }),
          arg('single_use', SingleUse, { default: false }),
        ],
        result: Token,
        authOnly: true,
        handler: (ctx, ttl, attrs, matchOrigin, singleUse) => auth.generateToken(ctx.connection, ctx.credentials!, ttl, attrs, matchOrigin, singleUse),
      }),
      method('auth.me', {
        description: 'Who this session is: user, roles (privilege.roles), credential type.',
        args: [],
        result: MeResult,
        authOnly: true,
        handler: (ctx) => whoAmI(ctx.credentials!),
      }),
      method('auth.set_attribute', {
        description: "Set `key` of the caller's attributes (auth.me's `attributes`: the web UI keeps its preferences and dashboard there) to `value`. Opaque to the daemon; at most 256 KiB of JSON per account.",
        args: [arg('key', AttributeKey), arg('value', AttributeValue)],
        result: SetAttributeResult,
        authOnly: true,
        audit: false,
        handler: async (ctx, key, value) => {
          await attributes.set(attributeOwner(principal(ctx.credentials!)), key, value);
          return null;
        },
      }),
      method('auth.logout', {
        description: 'End this session: later calls get ENOTAUTHENTICATED; event sources end with notify_unsubscribed; the token it logged in with and the tokens it generated stop working (closing the socket instead leaves them).',
        args: [],
        result: LogoutResult,
        authOnly: true,
        handler: async (ctx) => {
          await auth.logout(connectionOf(ctx));
          return true;
        },
      }),
      queryMethod(
        'auth.sessions',
        'Logged-in sessions: id, current, internal (unix socket), origin, credentials (type), credentials_data (username, login_id, login_at, api_key or parent), created_at, secure_transport. The caller\'s own sessions; every session for AUTH_SESSIONS_READ. Filters and options as every *.query, e.g. [["internal","=",false]].',
        (ctx) => auth.listSessions(ctx.credentials!, ctx.connection?.id ?? null),
        { authOnly: true },
      ),
      method('auth.terminate_session', {
        description: 'End session `id` (one of the caller\'s own, or any with AUTH_SESSIONS_WRITE): its connection closes at once (1008) and the token it logged in with and every token it generated stop working, as do sessions that logged in with those. false when there is no such session.',
        args: [arg('id', SessionId)],
        result: TerminateSessionResult,
        authOnly: true,
        audit: true,
        handler: (ctx, id) => auth.terminateSession(ctx.credentials!, id),
      }),
      method('auth.terminate_other_sessions', {
        description: 'End every session but this one and internal (unix socket) ones: the caller\'s own, or all with AUTH_SESSIONS_WRITE. Their tokens stop working as with auth.terminate_session.',
        args: [],
        result: TerminateOtherSessionsResult,
        authOnly: true,
        audit: true,
        handler: async (ctx) => {
          await auth.terminateOtherSessions(ctx.credentials!, ctx.connection?.id ?? null);
          return true as const;
        },
      }),
    ],
    events: [
      {
        name: SESSIONS_EVENT,
        description: 'Sessions added (a login), changed (a new login or roles on the same connection) and removed (logout, close, termination); fields as auth.sessions without current and internal. Session admins (AUTH_SESSIONS_READ) get every session\'s, other users their own; unix-socket sessions send none.',
        authOnly: true,
      },
    ],
  };
}
