import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFolderLockedError, lockDataFolder } from '../src/db/data-folder-lock';
import { PROCESS_START_MS, postGraphQL, runScript, startServer, type ServerProcess } from './support/server-process';

const servers: ServerProcess[] = [];
const dataDirs: string[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  for (const directory of dataDirs) rmSync(directory, { recursive: true, force: true });
});

function newDataDir(): string {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'papers-lock-'));
  dataDirs.push(dataDir);
  return dataDir;
}

const TYPENAME = '{ __typename }';
// A start on PGlite loads and starts the database too; the flow starts it twice, and three processes that refuse.
const START_TIMEOUT_MS = 2 * PROCESS_START_MS;

describe('one process per embedded data folder', () => {
  it('refuses a second server and the CLIs while one runs; a lock left by SIGKILL is taken over; close releases it', {
    timeout: 3 * START_TIMEOUT_MS,
  }, async () => {
    const dataDir = newDataDir();
    const folder = path.join(realpathSync(dataDir), 'pglite');
    const lockFile = `${folder}.lock`;
    const environment = { DATA_DIR: dataDir, DEMO_DATA: 'false' };
    const first = await startServer(environment, START_TIMEOUT_MS);
    servers.push(first);

    // The three that must be refused, at once: each spends its time loading modules, not waiting on the others.
    const [second, ...clis] = await Promise.all([
      startServer(environment, START_TIMEOUT_MS).then(
        (server) => {
          servers.push(server);
          return 'started';
        },
        (error: Error) => error.message,
      ),
      ...['src/db/migrate-cli.ts', 'src/demo/seed-cli.ts'].map((script) => runScript([script], environment)),
    ]);
    expect(second).toContain(`The embedded database folder ${folder} is in use by process ${first.process.pid}`);
    expect(second).toContain('DATA_DIR');
    for (const [index, script] of ['src/db/migrate-cli.ts', 'src/demo/seed-cli.ts'].entries()) {
      expect(clis[index]!.code, script).not.toBe(0);
      expect(clis[index]!.output, script).toContain(`${folder} is in use by process ${first.process.pid}`);
    }
    expect((await postGraphQL(first.url, TYPENAME)).body.data).toEqual({ __typename: 'Query' });

    await first.stop('SIGKILL');
    servers.splice(servers.indexOf(first), 1);
    expect(existsSync(lockFile)).toBe(true);
    const next = await startServer(environment, START_TIMEOUT_MS);
    servers.push(next);
    expect((await postGraphQL(next.url, TYPENAME)).body.data).toEqual({ __typename: 'Query' });
    await next.stop();
    expect(await next.exited).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
  });

  it('refuses to lock one folder twice in one process, and locks it again once released', () => {
    const folder = path.join(realpathSync(newDataDir()), 'pglite');
    const release = lockDataFolder(folder);
    expect(() => lockDataFolder(folder)).toThrow(DataFolderLockedError);
    release();
    lockDataFolder(folder)();
  });

  it('takes over a lock from another host sharing the folder only once it has not been refreshed for a minute', () => {
    const folder = path.join(realpathSync(newDataDir()), 'pglite');
    const lockFile = `${folder}.lock`;
    writeFileSync(lockFile, JSON.stringify({ pid: 1, host: 'another-host', command: 'src/server.ts', since: new Date().toISOString() }));
    expect(() => lockDataFolder(folder)).toThrow(/in use by process 1 on another-host/);
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    utimesSync(lockFile, twoMinutesAgo, twoMinutesAgo);
    const release = lockDataFolder(folder);
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
    release();
    expect(existsSync(lockFile)).toBe(false);
  });
});
