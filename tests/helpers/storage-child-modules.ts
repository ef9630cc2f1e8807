// The module list of a daemon child process in storage tests (MIDSHIP_MODULES points here):
// core, jobs and the storage module with the test's mount root (MIDSHIP_TEST_MOUNT_ROOT) and
// loop devices as disks, as tests/helpers/storage.ts builds them in process.
import type { ModuleFactory } from '#midship/module-api';
import { coreModule } from '../../methods/core.js';
import { jobsModule } from '../../methods/jobs.js';
import { makeStorageModule } from '../../methods/storage/index.js';

const mountRoot = process.env.MIDSHIP_TEST_MOUNT_ROOT;
if (!mountRoot) throw new Error('MIDSHIP_TEST_MOUNT_ROOT is not set');

// MIDSHIP_TEST_SCAN_INTERVAL_MS: how often a scan is read (the bench keeps the daemon's 2 s).
const scanIntervalMs = Number(process.env.MIDSHIP_TEST_SCAN_INTERVAL_MS ?? 500);

export const modules: ModuleFactory[] = [coreModule, jobsModule, makeStorageModule({ mountRoot, includeLoop: true, scanIntervalMs })];
