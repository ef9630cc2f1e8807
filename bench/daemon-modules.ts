// The module list of the daemon the job-engine bench starts: the real modules, the test module
// (test.noop, test.until_aborted...) and bench.heap, which reports the daemon's heap after a full
// collection (the daemon runs with --expose-gc for it).
import { method, Type, type ModuleFactory } from '#midship/module-api';
import { modules as withTestModule } from '../tests/helpers/modules.js';

const benchModule: ModuleFactory = () => ({
  services: [],
  methods: [
    method('bench.heap', {
      description: 'The heap in use after a full garbage collection, and the RSS, in bytes.',
      args: [],
      result: Type.Object({ heapUsed: Type.Number(), rss: Type.Number() }),
      handler: () => {
        const gc = (globalThis as { gc?: () => void }).gc;
        if (gc === undefined) throw new Error('start the daemon with --expose-gc');
        gc();
        gc();
        const m = process.memoryUsage();
        return { heapUsed: m.heapUsed, rss: m.rss };
      },
    }),
  ],
});

export const modules: ModuleFactory[] = [...withTestModule, benchModule];
