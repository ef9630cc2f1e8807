// Argument and result schemas of auth.* (PROTOCOL.md 8.2-8.4). Strings marked `secret` are
// redacted in logs and in core.get_jobs arguments.
import { Type, type Static } from '@sinclair/typebox';
import { WireSet } from './util.js';

// Both keys optional (PROTOCOL.md 8.2 gives their defaults); unknown keys are validation errors.
export const LoginOptions = Type.Object({ user_info: Type.Optional(Type.Boolean({ default: true })), reconnect_token: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false });
export type LoginOptionsT = Static<typeof LoginOptions>;

/** auth.login_ex: one object per mechanism; SCRAM takes two calls (client first, then client final message). */
export const LoginData = Type.Union([
  Type.Object({ mechanism: Type.Literal('PASSWORD_PLAIN'), username: Type.String(), password: Type.String({ secret: true }), login_options: Type.Optional(LoginOptions) }, { additionalProperties: false }),
  Type.Object({ mechanism: Type.Literal('API_KEY_PLAIN'), username: Type.String(), api_key: Type.String({ secret: true }), login_options: Type.Optional(LoginOptions) }, { additionalProperties: false }),
  Type.Object({ mechanism: Type.Literal('TOKEN_PLAIN'), token: Type.String({ secret: true }), login_options: Type.Optional(LoginOptions) }, { additionalProperties: false }),
  Type.Object({ mechanism: Type.Literal('OTP_TOKEN'), otp_token: Type.String({ secret: true }), login_options: Type.Optional(LoginOptions) }, { additionalProperties: false }),
  Type.Object({ mechanism: Type.Literal('SCRAM'), scram_type: Type.Union([Type.Literal('CLIENT_FIRST_MESSAGE'), Type.Literal('CLIENT_FINAL_MESSAGE')]), rfc_str: Type.String({ secret: true }) }, { additionalProperties: false }),
]);
export type LoginDataT = Static<typeof LoginData>;

/** auth.login_ex and auth.login_ex_continue: response_type plus what that response carries. */
export const LoginExResult = Type.Record(Type.String(), Type.Unknown());

/** auth.login_ex_continue: the second step of an OTP login. */
export const OtpLoginData = Type.Object({ mechanism: Type.Literal('OTP_TOKEN'), otp_token: Type.String({ secret: true }) }, { additionalProperties: false });

export const MechanismChoices = Type.Array(Type.String());

export const Username = Type.String();

export const Password = Type.String({ secret: true });

/** auth.login: accepted and ignored, Midship has no second factor. */
export const OtpToken = Type.Union([Type.String({ secret: true }), Type.Null()]);

/** An API key "<id>-<secret>". */
export const ApiKeySecret = Type.String({ secret: true });

/** A token from auth.generate_token. */
export const Token = Type.String({ secret: true });

/** The older login methods: true when the login succeeded. */
export const LoginSucceeded = Type.Boolean();

/** auth.generate_token: seconds the token lives unused, up to 30 days. */
export const TokenTtl = Type.Integer({ minimum: 1, maximum: 86_400 * 30 });

/** auth.generate_token: attributes stored with the token. */
export const TokenAttrs = Type.Record(Type.String(), Type.Unknown());

/** auth.generate_token: bind the token to the caller's address. */
export const MatchOrigin = Type.Boolean();

/** auth.generate_token: the token works once. */
export const SingleUse = Type.Boolean();

/** TrueNAS's composed privilege of a session (auth.me, login_ex's user_info). */
export const Privilege = Type.Object({
  /** Every role held and every role those include (FULL_ADMIN: the whole vocabulary). */
  roles: WireSet(Type.String()),
  /** {method: CALL, resource: <method>} per method the roles grant; full admin: {method: '*', resource: '*'}. */
  allowlist: Type.Array(Type.Object({ method: Type.String(), resource: Type.String() })),
  web_shell: Type.Boolean(),
  /** Holds a role meant for people (FULL_ADMIN, READONLY_ADMIN, SHARING_ADMIN, REPLICATION_ADMIN). */
  webui_access: Type.Boolean(),
});

/** user.twofactor_config of TrueNAS: Midship has no second factor, so nothing is configured. */
export const TwoFactorUserConfig = Type.Object({
  provisioning_uri: Type.Union([Type.String(), Type.Null()]),
  secret_configured: Type.Boolean(),
  interval: Type.Integer(),
  otp_digits: Type.Integer(),
});

/** The web UI's own settings of a user (auth.set_attribute): opaque to the daemon. */
export const UserAttributes = Type.Record(Type.String(), Type.Unknown());

/** auth.me and login_ex's user_info: TrueNAS's AuthUserInfo, plus Midship's credentials_type. */
export const MeResult = Type.Object({
  pw_name: Type.String(),
  pw_gecos: Type.String(),
  pw_dir: Type.String(),
  pw_shell: Type.String(),
  pw_uid: Type.Integer(),
  pw_gid: Type.Integer(),
  grouplist: Type.Union([Type.Array(Type.Integer()), Type.Null()]),
  sid: Type.Null(),
  source: Type.Literal('LOCAL'),
  local: Type.Literal(true),
  privilege: Privilege,
  account_attributes: Type.Array(Type.String()),
  attributes: UserAttributes,
  two_factor_config: TwoFactorUserConfig,
  credentials_type: Type.String(),
});
export type MeResultT = Static<typeof MeResult>;

/** auth.set_attribute: a key of the caller's attributes and its new value. */
export const AttributeKey = Type.String({ minLength: 1, maxLength: 256 });
export const AttributeValue = Type.Unknown();
export const SetAttributeResult = Type.Null();

export const LogoutResult = Type.Boolean();

/** auth.terminate_session: a session id as auth.sessions lists it. */
export const SessionId = Type.String({ minLength: 1, maxLength: 100 });

/** auth.terminate_session: false when there is no such session the caller may end. */
export const TerminateSessionResult = Type.Boolean();

export const TerminateOtherSessionsResult = Type.Literal(true);
