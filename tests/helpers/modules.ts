// The module list of a daemon child process in tests (MIDSHIP_MODULES points here): the real
// modules plus the test module.
import type { ModuleFactory } from '#midship/module-api';
import { modules as builtIn } from '../../methods/index.js';
import { testModule } from './test-module.js';

export const modules: ModuleFactory[] = [...builtIn, testModule];
