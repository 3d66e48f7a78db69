import { createServer, type Server } from 'node:http';
import type { QueueDashboard } from './admin/queue-dashboard';
import type { App } from './app';

export interface HttpServerOptions {
  /** The admin queue dashboard, answering /admin/queues ahead of the app. */
  queueDashboard?: QueueDashboard;
}

/**
 * The listener around the app. A request without a Host header (HTTP/1.0
 * clients may omit it) gets a 400 here: the app builds its URL from that
 * header and would otherwise fail with a 500. The queue dashboard, a
 * node:http handler of its own, takes /admin/queues before the app.
 */
export function createHttpServer(app: App, { queueDashboard }: HttpServerOptions = {}): Server {
  return createServer((request, response) => {
    if (!request.headers.host) {
      response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('A Host header is required.');
      return;
    }
    if (queueDashboard?.handle(request, response)) return;
    void app(request, response);
  });
}
