// Argument and result schemas of auth.* (PROTOCOL.md 8.2-8.4). Strings marked `secret` are
// redacted in logs and in core.get_jobs arguments.
import { Type, type Static } from '@sinclair/typebox';

// Both keys optional (PROTOCOL.md 8.2 gives their defaults); unknown keys are validation errors.
export const LoginOptions = Type.Object({ user_info: Type.Optional(Type.Boolean({ default: true })), reconnect_token: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false });

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

/** auth.me: the PROTOCOL.md 8.3 user object. */
export const MeResult = Type.Record(Type.String(), Type.Unknown());

export const LogoutResult = Type.Boolean();

/** auth.terminate_session: a session id as auth.sessions lists it. */
export const SessionId = Type.String({ minLength: 1, maxLength: 100 });

/** auth.terminate_session: false when there is no such session the caller may end. */
export const TerminateSessionResult = Type.Boolean();

export const TerminateOtherSessionsResult = Type.Literal(true);
