import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { QueueDashboard } from './admin/queue-dashboard';
import type { App } from './app';

export interface HttpServerOptions {
  /** The admin queue dashboard, answering /admin/queues ahead of the app. */
  queueDashboard?: QueueDashboard;
  /** The largest request body; the app checks a declared Content-Length, this listener a chunked body as it arrives. */
  maxRequestBytes?: number;
}

/**
 * The listener around the app. A request without a Host header (HTTP/1.0
 * clients may omit it) gets a 400 here: the app builds its URL from that
 * header and would otherwise fail with a 500. The queue dashboard, a
 * node:http handler of its own, takes /admin/queues before the app.
 *
 * A chunked body (proxies and streaming clients send them) declares no length
 * for the app to check up front: it is read here, up to `maxRequestBytes`
 * (413 beyond, without reading the rest), and handed on with its length.
 */
export function createHttpServer(app: App, { queueDashboard, maxRequestBytes = Infinity }: HttpServerOptions = {}): Server {
  return createServer((request, response) => {
    if (!request.headers.host) {
      response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('A Host header is required.');
      return;
    }
    if (queueDashboard?.handle(request, response)) return;
    if (request.headers['transfer-encoding'] === undefined || request.headers['content-length'] !== undefined) {
      void app(request, response);
      return;
    }
    readBody(request, maxRequestBytes).then(
      (body) => {
        if (body === undefined) {
          response
            .writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' })
            .end(`Request body too large: at most ${maxRequestBytes} bytes.`, () => request.destroy());
          return;
        }
        // As a body parser leaves it: the app's adapter takes a buffered body from request.body.
        delete request.headers['transfer-encoding'];
        request.headers['content-length'] = String(body.length);
        Object.assign(request, { body });
        void app(request, response);
      },
      () => request.destroy(),
    );
  });
}

/** The whole body, or undefined as soon as it exceeds `maxBytes` (reading stops there). */
function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) {
        request.off('data', onData);
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}
