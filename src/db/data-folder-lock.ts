import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * PGlite is Postgres in this process, with no postmaster to keep a second
 * process off its folder: two processes on one folder each see only their own
 * writes, and the one stopped first loses them. So a process opening the
 * folder takes `<folder>.lock` first, a file naming it (pid, host, command).
 *
 * The lock is created whole (written aside, then hard-linked into place, which
 * fails if it exists). A lock whose holder is gone is taken over: on this host,
 * when no process has its pid; from another host sharing the folder, when the
 * holder has stopped refreshing the file's time (every HEARTBEAT_MS) for
 * FOREIGN_STALE_MS. It is removed on close and at process exit; a SIGKILL
 * leaves it behind, for the next process to take over.
 */
const HEARTBEAT_MS = 10_000;
const FOREIGN_STALE_MS = 60_000;

interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export class DataFolderLockedError extends Error {
  override name = 'DataFolderLockedError';
}

/** The folders this process holds: opening one twice here is refused too (the pid in the file would look like ours). */
const heldHere = new Set<string>();

/** Locks `folder` (an absolute, resolved path) for this process; returns the release. */
export function lockDataFolder(folder: string): () => void {
  const lockPath = `${folder}.lock`;
  if (heldHere.has(lockPath)) throw new DataFolderLockedError(`The embedded database folder ${folder} is already open in this process.`);
  const content = JSON.stringify({
    pid: process.pid,
    host: hostname(),
    command: process.argv.slice(1).join(' '),
    since: new Date().toISOString(),
  } satisfies LockHolder);

  for (let attempt = 1; !create(lockPath, content); attempt++) {
    const found = readLock(lockPath);
    if (found === undefined) continue; // released meanwhile: try again
    if (found.holder && isHeld(found.holder, found.refreshedAt)) throw new DataFolderLockedError(lockedMessage(folder, lockPath, found.holder));
    if (attempt >= 3) throw new DataFolderLockedError(`Could not take the lock ${lockPath}: other processes are taking it too.`);
    removeIf(lockPath, found.raw);
  }
  heldHere.add(lockPath);

  const heartbeat = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(lockPath, now, now);
    } catch {
      // Removed by hand: nothing to refresh.
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const release = () => {
    clearInterval(heartbeat);
    process.off('exit', release);
    heldHere.delete(lockPath);
    removeIf(lockPath, content);
  };
  process.on('exit', release);
  return release;
}

/** Creates the lock file with `content` in one step; false if it exists. */
function create(lockPath: string, content: string): boolean {
  // Unique: processes on other hosts (containers sharing the folder) may have the same pid.
  const aside = `${lockPath}.${randomUUID()}`;
  writeFileSync(aside, content);
  try {
    linkSync(aside, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(aside);
  }
}

function readLock(lockPath: string): { raw: string; holder: LockHolder | undefined; refreshedAt: number } | undefined {
  try {
    const raw = readFileSync(lockPath, 'utf8');
    const refreshedAt = statSync(lockPath).mtimeMs;
    let holder: LockHolder | undefined;
    try {
      holder = JSON.parse(raw) as LockHolder;
    } catch {
      holder = undefined;
    }
    return { raw, holder, refreshedAt };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether the holder named in a lock still runs; a file that names none (not written by this code) holds nothing. */
function isHeld(holder: LockHolder, refreshedAt: number): boolean {
  if (!Number.isInteger(holder.pid)) return false;
  if (holder.host !== hostname()) return Date.now() - refreshedAt < FOREIGN_STALE_MS;
  // Our own pid in the file is a previous life of this pid (a restarted container, say): this process holds nothing yet.
  return holder.pid !== process.pid && isRunning(holder.pid);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** Deletes the lock file if it still holds `content` (so a lock another process has taken since is left alone). */
function removeIf(lockPath: string, content: string): void {
  try {
    if (readFileSync(lockPath, 'utf8') === content) unlinkSync(lockPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function lockedMessage(folder: string, lockPath: string, holder: LockHolder): string {
  return [
    `The embedded database folder ${folder} is in use by process ${holder.pid} on ${holder.host}`,
    `(${[holder.command, `since ${holder.since}`].filter(Boolean).join(', ')}).`,
    "Two processes on one embedded database lose each other's writes:",
    'stop that process first, or give this one another folder with DATA_DIR (or use Postgres with DATABASE_URL).',
    `If no such process runs, delete ${lockPath}.`,
  ].join(' ');
}
