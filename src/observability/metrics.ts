import { createHash, timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { JobCounts } from '../job-queue';

export interface MetricsDependencies {
  /** Jobs by state; read on each scrape. */
  jobCounts: () => Promise<JobCounts>;
  /** The bearer token a scraper must send; without one, /metrics is not served (404). */
  token: string | undefined;
}

/**
 * Prometheus metrics at GET /metrics: request latency by route and status,
 * job queue depths by state, and the process's own (CPU, memory, event loop).
 * One registry per app, so tests and several apps in a process stay apart.
 * They tell an outsider the traffic, the queue and the memory of the process:
 * served only with a token set, to a scraper that sends it.
 */
export function metrics({ jobCounts, token }: MetricsDependencies): RequestMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'job_queue_jobs',
    help: 'Jobs in the background queue, by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      try {
        for (const [state, count] of Object.entries(await jobCounts())) this.set({ state }, count);
      } catch {
        // Redis down: the gauge keeps its last values; /ready reports the outage.
      }
    },
  });
  const startedAt = new WeakMap<Request, number>();
  const observe = (method: string, pathname: string, status: number, seconds: number) =>
    requestDuration.observe({ method, route: routeOf(pathname), status: String(status) }, seconds);

  const plugin: Plugin = {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      startedAt.set(request, performance.now());
      if (url.pathname !== '/metrics' || request.method !== 'GET' || token === undefined) return;
      if (!sendsToken(request, token)) {
        endResponse(
          new fetchAPI.Response('Send the metrics token as "Authorization: Bearer <token>".', {
            status: 401,
            headers: { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' },
          }),
        );
        return;
      }
      endResponse(new fetchAPI.Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } }));
    },
    onResponse({ request, response }) {
      const started = startedAt.get(request);
      if (started === undefined) return;
      observe(request.method, new URL(request.url).pathname, response.status, (performance.now() - started) / 1000);
    },
  };
  return { plugin, observe };
}

export interface RequestMetrics {
  /** Serves /metrics and times every request the app answers. */
  plugin: Plugin;
  /** Times a request answered before the app (a cached hit sent by the listener). */
  observe(method: string, pathname: string, status: number, seconds: number): void;
}

/** Whether the request carries `Authorization: Bearer <token>`, compared in constant time. */
function sendsToken(request: Request, token: string): boolean {
  const sent = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization')?.trim() ?? '')?.[1];
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return sent !== undefined && timingSafeEqual(digest(sent), digest(token));
}

/** A bounded set of route labels: unknown paths share one, so scanners cannot grow the series. */
function routeOf(pathname: string): string {
  if (['/graphql', '/health', '/ready', '/metrics', '/'].includes(pathname)) return pathname;
  if (pathname.startsWith('/feeds/')) return '/feeds';
  if (pathname.startsWith('/api/')) return '/api';
  if (pathname.startsWith('/digest/')) return '/digest';
  return 'other';
}
