// Validation of the scheduling fields: the TypeBox schemas through the daemon's own ajv setup
// (defaults filled, bad shapes refused with their path), and the semantic checks with attribute
// paths into a real ValidationErrors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Type } from '@sinclair/typebox';
import { ValidationErrors } from '../daemon/errors.js';
import { SchemaCompiler, arg } from '../daemon/schema.js';
import { Calendar } from '../methods/scheduling/calendar.js';
import {
  DEFAULT_SCHEDULE,
  SCHEDULING_DEFAULTS,
  SchedulingCreate,
  SchedulingUpdate,
  mergeScheduling,
  normalizeScheduling,
  scheduleSchema,
  schedulingFields,
  type ScheduleT,
  type SchedulingCreateT,
} from '../methods/scheduling/schemas.js';
import { canonicalSchedule, jobSchedules, validateSchedule, validateScheduling } from '../methods/scheduling/validate.js';

const cal = new Calendar({ defaultTimeZone: 'UTC' });
const S = (s: Partial<ScheduleT>): ScheduleT => ({ ...DEFAULT_SCHEDULE, ...s });

function problems(fn: (e: ValidationErrors) => void): Array<[string | null, string]> {
  const e = new ValidationErrors();
  fn(e);
  return e.errors.map(([a, m]) => [a, m]);
}

test('each bad cron field is named under its path, with what is wrong', () => {
  const got = problems((e) => validateSchedule(cal, S({ minute: '61', hour: '24', dom: '0', month: '13', dow: '8' }), 'cron_job_create.schedule', e));
  assert.equal(
    got.map(([a]) => a),
    ['cron_job_create.schedule.minute', 'cron_job_create.schedule.hour', 'cron_job_create.schedule.dom', 'cron_job_create.schedule.month', 'cron_job_create.schedule.dow'],
  );
  assert.match(got[0]![1], /Invalid minute \(0-59\) expression "61"/);
  assert.match(got[2]![1], /day of month \(1-31, L, W\) expression "0": value out of range/);
  const second = problems((e) => validateSchedule(cal, S({ second: 'x' }), 'a', e));
  assert.equal(second.map(([a]) => a), ['a.second']);
  assert.match(second[0]![1], /illegal characters/);
  assert.equal(problems((e) => validateSchedule(cal, S({ minute: '@daily' }), 'a', e)).map(([a, m]) => [a, /nicknames/.test(m)]), [['a.minute', true]]);
  assert.equal(problems((e) => validateSchedule(cal, S({ minute: '*/0' }), 'a', e)).map(([a]) => a), ['a.minute']);
});

test('a schedule that never fires is refused on the schedule itself; a valid one passes', () => {
  const got = problems((e) => validateSchedule(cal, S({ minute: '0', hour: '0', dom: '30', month: '2' }), 'cron_job_update.schedules.2', e));
  assert.equal(got.map(([a]) => a), ['cron_job_update.schedules.2']);
  assert.match(got[0]![1], /never fires/);
  assert.equal(problems((e) => validateSchedule(cal, S({ minute: '*/5', hour: '9-17', dow: 'mon-fri', timezone: 'Europe/Berlin', jitter: 30 }), 'a', e)), []);
});

test('time zones: unknown names and offsets refused at .timezone; names stored canonical', () => {
  for (const tz of ['Mars/Olympus', '+02:00', 'CEST ', '']) {
    const got = problems((e) => validateSchedule(cal, S({ timezone: tz }), 'cron_job_create.schedule', e));
    assert.equal(got.map(([a]) => a), ['cron_job_create.schedule.timezone'], tz);
    assert.match(got[0]![1], /IANA zone name such as Europe\/Berlin/);
  }
  assert.equal(canonicalSchedule(S({ timezone: 'europe/berlin' })).timezone, 'Europe/Berlin');
  assert.is(canonicalSchedule(DEFAULT_SCHEDULE).timezone, undefined);
  const jitter = problems((e) => validateSchedule(cal, S({ jitter: 3601 }), 'a', e));
  assert.equal(jitter.map(([a]) => a), ['a.jitter']);
});

test('several schedules: each checked under schedules.N, beside schedule', () => {
  const got = problems((e) =>
    validateScheduling(cal, { schedule: S({ minute: '5' }), schedules: [S({}), S({ hour: '25' }), S({ timezone: 'No/Where', dow: 'funday' })] }, 'cron_job_create', e),
  );
  assert.equal(got.map(([a]) => a), ['cron_job_create.schedules.1.hour', 'cron_job_create.schedules.2.dow', 'cron_job_create.schedules.2.timezone']);
  assert.equal(jobSchedules({ schedule: S({ minute: '5' }), schedules: [S({ minute: '6' })] }).map((s) => s.minute), ['5', '6']);
});

test('schemas through the daemon ajv: create fills every default, update none; bad shapes refused with paths', () => {
  const compiler = new SchemaCompiler();
  const create = compiler.compileArgs([arg('cron_job_create', SchedulingCreate)]);
  const [filled] = create([{ schedules: [{ hour: '3' }], retry_backoff: { type: 'EXPONENTIAL' } }]) as [SchedulingCreateT];
  assert.equal(filled, {
    ...SCHEDULING_DEFAULTS,
    schedules: [{ minute: '00', hour: '3', dom: '*', month: '*', dow: '*' }],
    retry_backoff: { type: 'EXPONENTIAL', max_delay: 3600, jitter: 0 },
  });
  const update = compiler.compileArgs([arg('cron_job_update', SchedulingUpdate)]);
  assert.equal(update([{ overlap_policy: 'ALLOW' }]), [{ overlap_policy: 'ALLOW' }]);
  const refused = (value: unknown): string[] => {
    try {
      create([value]);
    } catch (err) {
      assert.instance(err, ValidationErrors);
      return (err as ValidationErrors).errors.map(([a, m]) => `${a ?? 'null'}: ${m}`);
    }
    assert.unreachable(`accepted ${JSON.stringify(value)}`);
    return [];
  };
  assert.equal(refused({ overlap_policy: 'SOMETIMES' }), ['cron_job_create.overlap_policy: Input should be one of "SKIP", "QUEUE_ONE", "CANCEL_PREVIOUS", "ALLOW"']);
  assert.ok(refused({ catch_up: 'SOME' }).some((a) => a.startsWith('cron_job_create.catch_up')));
  assert.ok(refused({ catch_up_window: -1 }).some((a) => a.startsWith('cron_job_create.catch_up_window')));
  assert.ok(refused({ max_concurrent: 0 }).some((a) => a.startsWith('cron_job_create.max_concurrent')));
  assert.ok(refused({ retry_backoff: { jitter: 1.5 } }).some((a) => a.startsWith('cron_job_create.retry_backoff.jitter')));
  assert.ok(refused({ on_success: [2, 2] }).some((a) => a.startsWith('cron_job_create.on_success')));
  assert.ok(refused({ schedules: [{ hour: '1 2' }] }).some((a) => a.startsWith('cron_job_create.schedules.0.hour')));
  assert.ok(refused({ schedules: [{ jitter: 5000 }] }).some((a) => a.startsWith('cron_job_create.schedules.0.jitter')));
  assert.ok(refused({ schedules: [{ colour: 'red' }] }).length > 0, 'unknown schedule fields refused');
  assert.ok(refused({ schedules: Array.from({ length: 25 }, () => ({})) }).some((a) => a.startsWith('cron_job_create.schedules')));
  // The cron module's `schedule` gains timezone and jitter by spreading ScheduleExtensionFields.
  const merged = compiler.compileArgs([arg('x', Type.Object({ schedule: scheduleSchema(true), ...schedulingFields(true) }, { additionalProperties: false }))]);
  assert.equal((merged([{ schedule: { timezone: 'UTC', jitter: 5 } }])[0] as { schedule: ScheduleT }).schedule, { minute: '00', hour: '*', dom: '*', month: '*', dow: '*', timezone: 'UTC', jitter: 5 });
});

test('normalize fills what a direct caller left out; merge replaces given fields, retry_backoff field by field', () => {
  const n = normalizeScheduling({ on_failure: [4], schedules: [{ hour: '2' } as ScheduleT] });
  assert.equal(n, { ...SCHEDULING_DEFAULTS, on_failure: [4], schedules: [S({ hour: '2' })] });
  const m = mergeScheduling(n, { retry_backoff: { max_delay: 60 }, overlap_policy: 'QUEUE_ONE', schedules: [] });
  assert.equal(m.retry_backoff, { type: 'FIXED', max_delay: 60, jitter: 0 });
  assert.is(m.overlap_policy, 'QUEUE_ONE');
  assert.equal(m.schedules, []);
  assert.equal(m.on_failure, [4]);
  assert.is.not(m.on_failure, n.on_failure, 'lists are copies: the stored record is not aliased');
  assert.equal(SCHEDULING_DEFAULTS.on_failure, [], 'defaults untouched');
});

test.run();
