import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';

const run = promisify(execFile);

/** Where the Debian/Ubuntu packages put the server binaries; POSTGRES_BIN overrides. */
const binaries = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

/** Postgres refuses to run as root: as root, the server is run as the `postgres` OS user. */
const asRoot = process.getuid?.() === 0;
const serverUser = 'postgres';

async function runAsServerUser(binary: string, args: string[]): Promise<void> {
  const command = path.join(binaries, binary);
  const [file, argv] = asRoot ? ['runuser', ['-u', serverUser, '--', command, ...args]] : [command, args];
  try {
    await run(file, argv, { timeout: 60_000 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${binary} ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface OwnPostgres {
  port: number;
  /** The connection string of `database` on this instance (user postgres, trust auth). */
  urlFor(database: string): string;
  /** Starts the server (again) on the same port and data, and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it: `fast` ends sessions cleanly (57P01 to each), `immediate` as a crash would. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server if it runs and removes its data directory. */
  cleanup(): Promise<void>;
}

/**
 * A Postgres server of the calling test's own, in a fresh temporary directory
 * on a free port of 127.0.0.1, for tests that stop and start Postgres for real
 * (the shared server on 5432 serves other test files meanwhile). Trust auth,
 * fsync off: data that a test throws away need not survive a power cut.
 * Initialized, not started: call start().
 */
export async function createOwnPostgres(): Promise<OwnPostgres> {
  const directory = mkdtempSync(path.join(tmpdir(), 'own-postgres-'));
  const dataDirectory = path.join(directory, 'data');
  const logFile = path.join(directory, 'server.log');
  if (asRoot) {
    const { stdout } = await run('id', ['-u', serverUser]);
    const { stdout: group } = await run('id', ['-g', serverUser]);
    chownSync(directory, Number(stdout.trim()), Number(group.trim()));
  }
  await runAsServerUser('initdb', ['-D', dataDirectory, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const port = await freePort();
  const serverOptions = [
    `-p ${port}`,
    `-c listen_addresses=127.0.0.1`,
    `-c unix_socket_directories=${directory}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
  ].join(' ');
  let running = false;

  const instance: OwnPostgres = {
    port,
    urlFor: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      // -w: pg_ctl returns once the server accepts connections.
      await runAsServerUser('pg_ctl', ['start', '-w', '-t', '60', '-D', dataDirectory, '-l', logFile, '-o', serverOptions]);
      running = true;
    },
    async stop(mode = 'fast') {
      await runAsServerUser('pg_ctl', ['stop', '-w', '-t', '60', '-D', dataDirectory, '-m', mode]);
      running = false;
    },
    async restart(mode = 'fast') {
      await instance.stop(mode);
      await instance.start();
    },
    async cleanup() {
      if (running) await instance.stop('immediate').catch(() => undefined);
      rmSync(directory, { recursive: true, force: true });
    },
  };
  return instance;
}

/** Runs statements on the instance's `postgres` database, e.g. to create a database. */
export async function onOwnPostgres(instance: OwnPostgres, statements: string[]): Promise<void> {
  const admin = postgres(instance.urlFor('postgres'), { max: 1, onnotice: () => {} });
  try {
    for (const statement of statements) await admin.unsafe(statement);
  } finally {
    await admin.end();
  }
}
