// Whether a process still exists, for tests that check a shell or a child went away with what
// owned it. EPERM means it exists but belongs to someone else.
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
