// docs/modules.md's example module, compiled and tested (tests/example-module.test.ts).
import { setTimeout as pause } from 'node:timers/promises';
import { arg, method, queryMethod, Type, type App, type ModuleDef, type Static } from '#midship/module-api';

const Note = Type.Object({ id: Type.Integer(), text: Type.String() });
type NoteT = Static<typeof Note>;
export function notesModule(app: App): ModuleDef {
  const db = app.sublevel<NoteT>('notes');
  const notes = new Map<number, NoteT>();
  const searches = new Set<(note: NoteT) => void>();
  let nextId = 1;
  return {
    services: [{ name: 'notes', type: 'crud', rolePrefix: 'NOTES' }],
    methods: [
      queryMethod('notes.query', 'Notes: filters and options as every *.query.', () => notes.values()),
      method('notes.create', {
        description: 'Add a note; returns it.',
        args: [arg('text', Type.String({ minLength: 1, maxLength: 1000 }))],
        result: Note,
        handler: async (_ctx, text) => {
          const note = { id: nextId++, text }; // taken before the await: ids never race
          await db.put(String(note.id).padStart(10, '0'), note); // stored before it is told
          notes.set(note.id, note);
          for (const send of searches) send(note);
          return note;
        },
      }),
      method('notes.count_words', {
        description: 'Count the words of all notes, as a job; pause_ms between notes.',
        args: [arg('pause_ms', Type.Integer({ minimum: 0, maximum: 1000 }), { default: 0 })],
        result: Type.Integer(),
        job: { abortable: true },
        handler: async (_ctx, job, pauseMs) => {
          let words = 0;
          for (const [i, note] of [...notes.values()].entries()) {
            words += note.text.split(/\s+/).filter(Boolean).length;
            job.setProgress((100 * (i + 1)) / notes.size, `${i + 1} of ${notes.size} notes`);
            await pause(pauseMs, undefined, { signal: job.signal }); // core.job_abort ends it here
          }
          return words;
        },
      }),
    ],
    events: [{
      name: 'notes.search', roles: ['NOTES_READ'],
      description: 'Subscribe as notes.search:{"word": W}: every note holding W, now and as they come.',
      source: {
        args: Type.Object({ word: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
        run: (ctx, args) => new Promise<void>((resolve) => {
          const send = (n: NoteT) => n.text.includes((args as { word: string }).word) && ctx.emit('added', n.id, n);
          for (const n of notes.values()) send(n);
          searches.add(send);
          ctx.signal.addEventListener('abort', () => (searches.delete(send), resolve()));
        }),
      },
    }],
    async start() {
      for await (const [, note] of db.iterator()) notes.set(note.id, note);
      nextId = Math.max(0, ...notes.keys()) + 1;
    },
  };
}
