import type { Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { JobCounts } from '../../jobs/jobs';

export interface MetricsDependencies {
  /** Jobs by state; read on each scrape. */
  jobCounts: () => Promise<JobCounts>;
}

/**
 * Prometheus metrics at GET /metrics: request latency by route and status,
 * job queue depths by state, and the process's own (CPU, memory, event loop).
 * One registry per app, so tests and several apps in a process stay apart.
 */
export function metrics({ jobCounts }: MetricsDependencies): Plugin {
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

  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      startedAt.set(request, performance.now());
      if (url.pathname !== '/metrics' || request.method !== 'GET') return;
      endResponse(new fetchAPI.Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } }));
    },
    onResponse({ request, response }) {
      const started = startedAt.get(request);
      if (started === undefined) return;
      const route = routeOf(new URL(request.url).pathname);
      requestDuration.observe(
        { method: request.method, route, status: String(response.status) },
        (performance.now() - started) / 1000,
      );
    },
  };
}

/** A bounded set of route labels: unknown paths share one, so scanners cannot grow the series. */
function routeOf(pathname: string): string {
  if (['/graphql', '/health', '/ready', '/metrics', '/'].includes(pathname)) return pathname;
  if (pathname.startsWith('/feeds/')) return '/feeds';
  if (pathname.startsWith('/digest/')) return '/digest';
  return 'other';
}
