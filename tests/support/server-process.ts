import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { TEST_PASSWORD_HASH_COST, testConfig } from './fixtures';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * How long a spawned process may take to be ready. Before anything else it
 * loads the app's thousand-odd modules through tsx: 2 to 5 s of CPU, which
 * took 20 to 40 s of wall time on a 2-core machine shared with other test
 * runs (load average 16 to 25). Embedded PGlite adds 5 to 10 s of CPU.
 */
export const PROCESS_START_MS = 90_000;

/** The timeout of a test that starts a process or two and uses it: the default 30 s is less than one start under load. */
export const PROCESS_TEST_TIMEOUT_MS = 150_000;

export interface ScriptProcess {
  process: ChildProcess;
  /** What it printed so far: stdout, stderr, and both in the order they came. */
  readonly stdout: string;
  readonly stderr: string;
  readonly output: string;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first or `timeoutMs` pass. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` unless it has exited, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs a script of the repository (a file, or `-e` code) on node with tsx,
 * as `npm run` does. Its environment is PATH, a low password-hash cost, an
 * arXiv nobody answers at (testConfig's) and `environment`, nothing of the
 * test process's.
 */
export function spawnScript(args: string[], environment: Record<string, string | undefined> = {}): ScriptProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: 'info',
      PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST),
      ARXIV_API_URL: testConfig.arxiv.apiUrl,
      ...environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
    output += chunk;
  });
  // 'close': exited, and everything it printed read.
  const exited = once(child, 'close').then(([code]) => code as number | null);

  function waitForOutput(pattern: RegExp, timeoutMs = PROCESS_START_MS): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (!match) return;
        done();
        resolve(match);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} in the output within ${timeoutMs} ms:\n${output}`));
      }, timeoutMs);
      const onExit = (code: number | null) => {
        done();
        // The last output may come after the exit event.
        setImmediate(() => {
          const match = pattern.exec(output);
          if (match) resolve(match);
          else reject(new Error(`exited with ${code} before printing ${pattern}:\n${output}`));
        });
      };
      const done = () => {
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.stderr.off('data', check);
        child.off('exit', onExit);
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      child.on('exit', onExit);
      if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode);
      else check();
    });
  }

  return {
    process: child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    get output() {
      return output;
    },
    exited,
    waitForOutput,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Runs a script to its end: its exit code and what it printed. */
export async function runScript(args: string[], environment: Record<string, string | undefined> = {}) {
  const script = spawnScript(args, environment);
  const code = await script.exited;
  return { code, stdout: script.stdout, stderr: script.stderr, output: script.output };
}

export interface ServerProcess extends ScriptProcess {
  url: string;
}

/**
 * Starts `src/server.ts` as `npm start` does, on a free port, and waits until
 * it listens. The demo data set is small (20 papers) unless DEMO_PAPERS says otherwise.
 * `args` go to the script (`['api']`: the API without the worker, as `npm run start:api`).
 */
export async function startServer(environment: Record<string, string>, timeoutMs = PROCESS_START_MS, args: string[] = []): Promise<ServerProcess> {
  const server = spawnScript(['src/server.ts', ...args], { PORT: '0', HOST: '127.0.0.1', DEMO_PAPERS: '20', ...environment });
  let port: number;
  try {
    port = Number((await server.waitForOutput(/"port":(\d+)/, timeoutMs))[1]);
  } catch (error) {
    await server.stop('SIGKILL');
    throw new Error(`server did not start: ${(error as Error).message}`);
  }
  return Object.assign(server, { url: `http://127.0.0.1:${port}` });
}

export async function postGraphQL(url: string, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}
