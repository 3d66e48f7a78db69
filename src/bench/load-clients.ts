import { fork, type ChildProcess } from 'node:child_process';

/**
 * The load generator of `npm run bench`: several processes (load-client.ts),
 * each driving autocannon over its share of the connections, so no single
 * event loop of the generator caps what a server can show. Latencies come
 * back raw and are merged here into exact percentiles.
 */
export interface HttpRequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What to send: the same requests in turn, or upvotes on distinct (voter, paper) pairs. */
export type LoadSpec =
  | { kind: 'requests'; requests: HttpRequestSpec[] }
  | {
      kind: 'upvotes';
      /** GraphQL mutation (the API) or the bare vote endpoint. */
      target: 'api' | 'bare';
      tokens: string[];
      paperCount: number;
      /** Where in the sequence of pairs this run starts: a later run of the same voters gives new pairs. */
      first: number;
    };

export interface RunMessage {
  type: 'run';
  id: number;
  url: string;
  connections: number;
  durationSeconds: number;
  spec: LoadSpec;
  /** This client's place among `stride` clients: it sends requests start, start + stride, ... of the sequence. */
  start: number;
  stride: number;
}

export interface ResultMessage {
  type: 'result';
  id: number;
  /** Latencies in ms of every response, in arrival order. */
  latencies: number[];
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Upvotes: 2xx answers without an error in the body. */
  clean: number;
}

export const UPVOTE_MUTATION = `mutation ($id: ID!) { upvotePaper(paperId: $id) { upvotes viewerHasUpvoted } }`;

/** An upvote by the holder of `token`: the API's mutation, or the bare peer's vote endpoint. */
export function voteRequest(target: 'api' | 'bare', token: string, paperId: number): HttpRequestSpec {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'cache-control': 'no-cache' };
  if (target === 'bare') return { method: 'POST', path: '/upvote', headers, body: JSON.stringify({ paperId }) };
  const id = Buffer.from(`Paper:${paperId}`).toString('base64');
  return { method: 'POST', path: '/graphql', headers, body: JSON.stringify({ query: UPVOTE_MUTATION, variables: { id } }) };
}

/** The i-th upvote of a sequence: voter i mod voters on paper i mod papers, a new pair while i < voters x papers (coprime). */
export const upvoteRequest = (target: 'api' | 'bare', tokens: readonly string[], paperCount: number, i: number) =>
  voteRequest(target, tokens[i % tokens.length]!, 1 + (i % paperCount));

export interface LoadFigure {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
  /** Upvotes: answers that were a clean 2xx. */
  clean: number;
  /** Every response's latency in ms, sorted, and the seconds measured: what merging figures needs. */
  latencies: number[];
  seconds: number;
}

/** The figure of a load from its latencies (sorted), the seconds it ran, and its counts. */
const figureOf = (latencies: number[], seconds: number, failures: number, clean: number): LoadFigure => ({
  requestsPerSecond: latencies.length / seconds,
  p50: percentile(latencies, 50),
  p99: percentile(latencies, 99),
  failures,
  clean,
  latencies,
  seconds,
});

/** The figure of several runs of one load taken as one (the parts of a row measured in turns with others). */
export function mergedFigure(parts: readonly LoadFigure[]): LoadFigure {
  return figureOf(
    parts.flatMap((part) => part.latencies).sort((a, b) => a - b),
    parts.reduce((sum, part) => sum + part.seconds, 0),
    parts.reduce((sum, part) => sum + part.failures, 0),
    parts.reduce((sum, part) => sum + part.clean, 0),
  );
}

/** The p-th percentile (0-100) of sorted values, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface LoadClients {
  readonly count: number;
  /** Drives `url` with `connections` in all, split over the clients, for `durationSeconds`. */
  run(url: string, connections: number, durationSeconds: number, spec: LoadSpec): Promise<LoadFigure>;
  close(): Promise<void>;
}

export function startLoadClients(count: number): LoadClients {
  const clients: ChildProcess[] = [];
  for (let i = 0; i < count; i += 1) {
    clients.push(fork('src/bench/load-client.ts', [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }
  let nextId = 0;
  const runOn = (client: ChildProcess, message: RunMessage) =>
    new Promise<ResultMessage>((resolve, reject) => {
      const onMessage = (answer: ResultMessage) => {
        if (answer.type !== 'result' || answer.id !== message.id) return;
        client.off('message', onMessage);
        client.off('exit', onExit);
        resolve(answer);
      };
      const onExit = (code: number | null) => reject(new Error(`a load client exited with ${code}`));
      client.on('message', onMessage);
      client.once('exit', onExit);
      client.send(message);
    });
  return {
    count,
    async run(url, connections, durationSeconds, spec) {
      const id = nextId++;
      const used = clients.slice(0, Math.min(count, connections));
      const results = await Promise.all(
        used.map((client, index) =>
          runOn(client, {
            type: 'run',
            id,
            url,
            // Connections split as evenly as they go: the first clients take the remainder.
            connections: Math.floor(connections / used.length) + (index < connections % used.length ? 1 : 0),
            durationSeconds,
            spec,
            start: index,
            stride: used.length,
          }),
        ),
      );
      const latencies = results.flatMap((result) => result.latencies).sort((a, b) => a - b);
      return figureOf(
        latencies,
        durationSeconds,
        results.reduce((sum, result) => sum + result.non2xx + result.errors + result.timeouts, 0),
        results.reduce((sum, result) => sum + result.clean, 0),
      );
    },
    async close() {
      await Promise.all(
        clients.map(
          (client) =>
            new Promise<void>((resolve) => {
              if (client.exitCode !== null || client.signalCode !== null) return resolve();
              client.once('exit', () => resolve());
              client.disconnect();
            }),
        ),
      );
    },
  };
}
