// Per-user web UI attributes (auth.set_attribute, auth.me's `attributes`): the TrueNAS web UI keeps
// its preferences and dashboard layout here. Opaque to the daemon, but bounded: a user cannot
// grow the database without limit through them. Kept by account id (ids are never handed out
// twice), or as `root` for the unix-socket administrator; those of deleted accounts are dropped
// at start.
import { CallError, ERRNO, Slots, type Sublevel } from '#midship/module-api';

type Attributes = Record<string, unknown>;

/** Bytes of JSON one account's attributes may take. */
export const ATTRIBUTES_MAX_BYTES = 256 * 1024;

export class AttributeStore {
  readonly #byOwner = new Map<string, Attributes>();
  // One change at a time, each read from what the previous one stored: two quick set_attribute
  // calls both land, and memory never holds what the database refused.
  readonly #writes = new Slots(1);

  constructor(private readonly db: Sublevel<Attributes>) {}

  /** Load; forget the attributes of accounts that no longer exist. */
  async open(exists: (owner: string) => boolean): Promise<void> {
    for await (const [owner, attrs] of this.db.iterator()) {
      if (exists(owner)) this.#byOwner.set(owner, attrs);
      else await this.db.del(owner);
    }
  }

  get(owner: string): Attributes {
    return this.#byOwner.get(owner) ?? {};
  }

  set(owner: string, key: string, value: unknown): Promise<void> {
    return this.#writes.run(async () => {
      const next = { ...this.get(owner), [key]: value };
      const size = Buffer.byteLength(JSON.stringify(next));
      if (size > ATTRIBUTES_MAX_BYTES) {
        throw new CallError(`Attributes of one user may take at most ${ATTRIBUTES_MAX_BYTES} bytes of JSON (this would make ${size})`, ERRNO.EINVAL);
      }
      await this.db.put(owner, next);
      this.#byOwner.set(owner, next);
    });
  }
}
