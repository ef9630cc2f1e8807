// Shapes of the appliance-level calls the TrueNAS web UI makes after signing in (truenas.*,
// webui.main.dashboard.*, update.status, tn_connect.*, truecommand.*, failover.*), as TrueNAS's
// API v27 defines them.
import { Type } from '@sinclair/typebox';
import { WireDate } from './util.js';

export const Flag = Type.Boolean();

const RemoteInfo = {
  platform: Type.String({ minLength: 1 }),
  version: Type.String({ minLength: 1 }),
  license: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  system_serial: Type.String(),
  hostname: Type.String({ minLength: 1 }),
  uptime_seconds: Type.Number(),
  datetime: WireDate(),
};

export const SysInfo = Type.Object({ ...RemoteInfo, remote_info: Type.Union([Type.Object(RemoteInfo), Type.Null()]) });

export const UpdateStatus = Type.Object({
  code: Type.Union([Type.Literal('NORMAL'), Type.Literal('ERROR')]),
  status: Type.Union([
    Type.Object({
      current_version: Type.Object({ train: Type.String(), profile: Type.String(), matches_profile: Type.Boolean() }),
      new_version: Type.Null(),
    }),
    Type.Null(),
  ]),
  error: Type.Union([Type.Object({ errname: Type.String(), reason: Type.String() }), Type.Null()]),
  update_download_progress: Type.Null(),
});

export const TrueNASConnectEntry = Type.Object({
  id: Type.Integer(),
  enabled: Type.Boolean(),
  registration_details: Type.Record(Type.String(), Type.Unknown()),
  status: Type.String({ minLength: 1 }),
  status_reason: Type.String({ minLength: 1 }),
  certificate: Type.Union([Type.Integer(), Type.Null()]),
  account_service_base_url: Type.String(),
  leca_service_base_url: Type.String(),
  tnc_base_url: Type.String(),
  heartbeat_url: Type.String(),
  tier: Type.Null(),
  last_heartbeat_failure_datetime: Type.Union([Type.String(), Type.Null()]),
});

export const TruecommandEntry = Type.Object({
  id: Type.Integer(),
  api_key: Type.Union([Type.String({ secret: true }), Type.Null()]),
  status: Type.Literal('DISABLED'),
  status_reason: Type.String(),
  remote_url: Type.Union([Type.String(), Type.Null()]),
  remote_ip_address: Type.Union([Type.String(), Type.Null()]),
  enabled: Type.Boolean(),
});

export const FailoverStatus = Type.String();
export const FailoverReasons = Type.Array(Type.String());
