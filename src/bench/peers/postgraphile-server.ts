import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * PostGraphile 5 (amber preset, grafserv on node:http) over the `bench`
 * database, loaded from the peers folder (install.ts), not from the project's
 * dependencies. Env: DATABASE_URL, PORT, DB_POOL_SIZE, BENCH_PEERS_DIR.
 * GET /health answers here; everything else goes to grafserv (POST /graphql).
 */

// PostGraphile 5 calls Promise.withResolvers (Node 22+); without it on Node 20 every connection field answers null.
const promiseStatics = Promise as unknown as Record<string, unknown>;
if (typeof promiseStatics.withResolvers !== 'function') {
  promiseStatics.withResolvers = function withResolvers<T>(this: PromiseConstructor) {
    let resolve!: (value: T) => void;
    let reject!: (reason: unknown) => void;
    const promise = new this<T>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    return { promise, resolve, reject };
  };
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;
interface PostGraphileInstance {
  createServ(grafserv: unknown): { createHandler(): Handler };
  getSchema(): Promise<unknown>;
  release(): Promise<void>;
}

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const peers = createRequire(path.join(process.env.BENCH_PEERS_DIR ?? '.bench-peers', 'package.json'));
const { postgraphile } = peers('postgraphile') as { postgraphile(preset: unknown): PostGraphileInstance };
const { grafserv } = peers('postgraphile/grafserv/node') as { grafserv: unknown };
const { PostGraphileAmberPreset } = peers('postgraphile/presets/amber') as { PostGraphileAmberPreset: unknown };
const { makePgService } = peers('postgraphile/adaptors/pg') as { makePgService(options: unknown): unknown };

const instance = postgraphile({
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString: databaseUrl, schemas: ['public'], poolConfig: { max: Number(process.env.DB_POOL_SIZE ?? 10) } })],
  grafserv: { graphiql: false, watch: false },
  grafast: { explain: false },
});
const graphql = instance.createServ(grafserv).createHandler();
// The schema is built before the first request, not during the load.
await instance.getSchema();

const server = createServer((request, response) => {
  if (request.url === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    return;
  }
  graphql(request, response);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');

process.on('SIGTERM', () => {
  server.close();
  void instance.release().then(() => process.exit(0));
});
