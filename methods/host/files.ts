// Reading procfs and sysfs under a root directory ('/' on the real host, a temp tree in tests).
//
// A sampler reads the same few dozen small files every tick. fs.promises.readFile costs about
// 130 µs of CPU per file (open, fstat, read, close through the thread pool); keeping the file
// open and reading it again at offset 0 costs about 30 µs, and procfs and sysfs regenerate the
// content on every read from offset 0 (netdata reads them the same way). So HostFiles keeps
// handles open across ticks, closes the ones a tick no longer used (an interface that vanished),
// and never keeps more than `maxOpen`.
import { open, readdir, readFile, readlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the readers get their text: the host's files, or a cached-handle view of them. */
export interface FileSource {
  readonly root: string;
  /** The file's text, or null when it is missing or unreadable (never throws for those). */
  read(path: string): Promise<string | null>;
  /** Entry names of a directory, or null when it is missing or unreadable. */
  list(path: string): Promise<string[] | null>;
  /** The target of a symbolic link, or null when it is not one or is missing. */
  link(path: string): Promise<string | null>;
}

/** Joins a host path such as '/proc/stat' onto the root. */
export function hostPath(root: string, path: string): string {
  return root === '/' ? path : join(root, path);
}

async function listDir(root: string, path: string): Promise<string[] | null> {
  try {
    return await readdir(hostPath(root, path));
  } catch {
    return null;
  }
}

async function readLink(root: string, path: string): Promise<string | null> {
  try {
    return await readlink(hostPath(root, path));
  } catch {
    return null;
  }
}

/** Plain reads with nothing kept open: for one-off readers (system.info, interface.query). */
export function plainFiles(root = '/'): FileSource {
  return {
    root,
    async read(path) {
      try {
        return await readFile(hostPath(root, path), 'latin1');
      } catch {
        return null;
      }
    },
    list: (path) => listDir(root, path),
    link: (path) => readLink(root, path),
  };
}

/** A root path or an existing source: what every reader accepts. */
export type HostRoot = string | FileSource;

export function toSource(root: HostRoot): FileSource {
  return typeof root === 'string' ? plainFiles(root) : root;
}

interface OpenFile {
  handle: FileHandle;
  buffer: Buffer;
  /** The sweep generation that last read this file. */
  usedIn: number;
  /** The read in progress: concurrent readers share it (they would otherwise share the buffer). */
  pending: Promise<string | null> | null;
}

const FIRST_BUFFER = 4096;

/** A file bigger than this is not a procfs/sysfs counter file; read it whole, uncached. */
const MAX_BUFFER = 1 << 20;

export class HostFiles implements FileSource {
  readonly root: string;
  private readonly maxOpen: number;
  private readonly files = new Map<string, OpenFile>();
  private generation = 0;
  private closed = false;

  constructor(root = '/', options: { maxOpen?: number } = {}) {
    this.root = root;
    this.maxOpen = options.maxOpen ?? 256;
  }

  get openCount(): number {
    return this.files.size;
  }

  async read(path: string): Promise<string | null> {
    const cached = this.files.get(path);
    if (cached) {
      cached.usedIn = this.generation;
      if (cached.pending) return cached.pending;
      cached.pending = this.readOpen(path, cached).finally(() => (cached.pending = null));
      return cached.pending;
    }
    if (this.closed || this.files.size >= this.maxOpen) return plainFiles(this.root).read(path);
    let handle: FileHandle;
    try {
      handle = await open(hostPath(this.root, path), 'r');
    } catch {
      return null;
    }
    // Another read of the same path may have opened it while this one waited.
    const raced = this.files.get(path);
    if (raced || this.closed) {
      await handle.close().catch(() => {});
      return raced ? this.read(path) : plainFiles(this.root).read(path);
    }
    const entry: OpenFile = { handle, buffer: Buffer.allocUnsafe(FIRST_BUFFER), usedIn: this.generation, pending: null };
    this.files.set(path, entry);
    entry.pending = this.readOpen(path, entry).finally(() => (entry.pending = null));
    return entry.pending;
  }

  private async readOpen(path: string, entry: OpenFile): Promise<string | null> {
    try {
      for (;;) {
        const { bytesRead } = await entry.handle.read(entry.buffer, 0, entry.buffer.length, 0);
        if (bytesRead < entry.buffer.length) return entry.buffer.toString('latin1', 0, bytesRead);
        if (entry.buffer.length >= MAX_BUFFER) break;
        // A full buffer may be a cut file: grow and read again from the start.
        entry.buffer = Buffer.allocUnsafe(entry.buffer.length * 4);
      }
    } catch {
      // The file went away (an interface removed, or removed and created again under the same
      // name): forget the handle and read the path afresh, which finds the new file if any.
      this.drop(path, entry);
      return plainFiles(this.root).read(path);
    }
    this.drop(path, entry);
    return plainFiles(this.root).read(path);
  }

  private drop(path: string, entry: OpenFile): void {
    if (this.files.get(path) === entry) this.files.delete(path);
    void entry.handle.close().catch(() => {});
  }

  list(path: string): Promise<string[] | null> {
    return listDir(this.root, path);
  }

  link(path: string): Promise<string | null> {
    return readLink(this.root, path);
  }

  /** Closes the files not read since the previous sweep. A sampler calls it once per tick. */
  sweep(): void {
    for (const [path, entry] of this.files) {
      if (entry.usedIn !== this.generation && !entry.pending) this.drop(path, entry);
    }
    this.generation++;
  }

  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.files.values()];
    this.files.clear();
    await Promise.all(entries.map(async (e) => {
      await e.pending?.catch(() => null);
      await e.handle.close().catch(() => {});
    }));
  }
}
