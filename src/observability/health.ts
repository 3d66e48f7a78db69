import { sql } from 'drizzle-orm';
import type { Plugin } from 'graphql-yoga';
import type { Redis } from 'ioredis';
import type { Database } from '../db/client';
import type { Logger } from '../logger';

export interface HealthDependencies {
  db: Database;
  /** Checked when the API uses Redis. */
  redis?: Redis;
  logger: Logger;
}

/** A dependency check that gives up after `ms`, so /ready answers even when a dependency hangs. */
async function withinTime(check: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([check.then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function json(fetchAPI: { Response: typeof Response }, body: unknown, status: number): Response {
  return new fetchAPI.Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/**
 * GET /ready: Postgres (and Redis, when used) answer, so a load balancer may
 * send traffic (503 otherwise). Liveness is yoga's GET /health.
 */
export function readinessCheck({ db, redis, logger }: HealthDependencies): Plugin {
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== '/ready' || (request.method !== 'GET' && request.method !== 'HEAD')) return;
      const checks = {
        postgres: await withinTime(db.execute(sql`select 1`), 2_000),
        ...(redis ? { redis: await withinTime(redis.ping(), 2_000) } : {}),
      };
      const ready = Object.values(checks).every(Boolean);
      if (!ready) logger.warn({ checks }, 'not ready');
      endResponse(json(fetchAPI, { status: ready ? 'ready' : 'unavailable', checks }, ready ? 200 : 503));
    },
  };
}
