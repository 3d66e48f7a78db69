import { createServer, type Server } from 'node:http';
import type { App } from './app';

/**
 * The listener around the app. A request without a Host header (HTTP/1.0
 * clients may omit it) gets a 400 here: the app builds its URL from that
 * header and would otherwise fail with a 500.
 */
export function createHttpServer(app: App): Server {
  return createServer((request, response) => {
    if (!request.headers.host) {
      response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('A Host header is required.');
      return;
    }
    void app(request, response);
  });
}
