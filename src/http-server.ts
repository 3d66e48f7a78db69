import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sendNodeResponse } from '@whatwg-node/server';
import type { QueueDashboard } from './admin/queue-dashboard';
import type { App } from './app';
import { requestTargetOf } from './http/request-target';
import type { Logger } from './logger';
import { requestIdFor } from './observability/request-id';

/** How long a client may take: to send its headers, its whole request, and between requests on a kept-alive connection. */
export interface ListenerTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
}

export interface HttpServerOptions {
  /** The admin queue dashboard, answering /admin/queues ahead of the app. */
  queueDashboard?: QueueDashboard;
  /** The largest request body; the app checks a declared Content-Length, this listener a chunked body as it arrives. */
  maxRequestBytes?: number;
  /** Where a failure before the app answers is logged. */
  logger?: Logger;
  timeouts?: ListenerTimeouts;
}

const plainText = { 'content-type': 'text/plain; charset=utf-8' };

/**
 * The listener around the app. It checks the request line and Host header
 * first (see requestTargetOf): a malformed one gets a 400 with a short plain
 * message, an absolute-form target is served as its path, `OPTIONS *` gets
 * the methods the server allows. The queue dashboard, a node:http handler of
 * its own, takes /admin/queues before the app. A cached anonymous answer is
 * sent from here (the app's `cachedHits`: no fetch Request is made, no
 * plugin runs), a POST's body read first; a miss goes on to the app with
 * that body. Anything that fails before the app has an answer is logged
 * with a request id and answered with a bare 500.
 *
 * A chunked body (proxies and streaming clients send them) declares no length
 * for the app to check up front: it is read here, up to `maxRequestBytes`
 * (413 beyond, without reading the rest), and handed on with its length.
 *
 * A client gets `timeouts.headersMs` for its headers and `timeouts.requestMs`
 * for its whole request (408 and the connection closed beyond), so one that
 * drips bytes cannot hold a connection for long.
 */
export function createHttpServer(
  app: App,
  { queueDashboard, maxRequestBytes = Infinity, logger, timeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 } }: HttpServerOptions = {},
): Server {
  function serve(request: IncomingMessage, response: ServerResponse) {
    new Promise<Response>((resolve) => resolve(app.handleNodeRequestAndResponse(request, response, { req: request })))
      .catch((error: unknown) => {
        const requestId = requestIdFor(request.headers['x-request-id'] as string | undefined);
        logger?.error({ err: error, requestId, method: request.method, url: request.url }, 'request failed before the app answered');
        return new Response('Unexpected error.', { status: 500, headers: { ...plainText, 'x-request-id': requestId } });
      })
      // As yoga's own listener sends it (status and headers in one writeHead).
      .then((answer) => sendNodeResponse(answer, response, request, true))
      .catch((error: unknown) => {
        logger?.error({ err: error, method: request.method, url: request.url }, 'could not send a response');
        response.destroy();
      });
  }

  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      // How often Node looks for connections over those timeouts (every 30 s by default, which would stretch them).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(timeouts.headersMs / 4))),
    },
    (request, response) => {
      const startedAt = performance.now();
      const target = requestTargetOf(request.method, request.url ?? '', request.headers.host);
      if (target.form === 'refused') {
        response.writeHead(400, plainText).end(target.reason);
        return;
      }
      if (target.form === 'server') {
        response.writeHead(204, { allow: 'GET, HEAD, POST, OPTIONS' }).end();
        return;
      }
      request.url = target.path;
      request.headers.host = target.authority;
      if (queueDashboard?.handle(request, response)) return;
      /** Sends the cached answer to the request (read with `body`), if there is one. */
      const sentHit = (body?: Buffer) => {
        const hit = app.cachedHits?.answer(request, body, startedAt);
        if (hit) response.writeHead(hit.status, hit.headers).end(hit.body ?? undefined);
        return hit !== undefined;
      };
      const lookup = app.cachedHits?.lookupOf(request);
      if (lookup === 'url' && sentHit()) return;
      if (lookup === 'body') {
        readBody(request, maxRequestBytes).then(
          (body) => {
            if (body && sentHit(body)) return;
            // A miss: the app takes the body read here (a declared length within the limit: never over it).
            Object.assign(request, { body });
            serve(request, response);
          },
          () => request.destroy(),
        );
        return;
      }
      if (request.headers['transfer-encoding'] === undefined || request.headers['content-length'] !== undefined) {
        serve(request, response);
        return;
      }
      readBody(request, maxRequestBytes).then(
        (body) => {
          if (body === undefined) {
            response
              .writeHead(413, { ...plainText, connection: 'close' })
              .end(`Request body too large: at most ${maxRequestBytes} bytes.`, () => request.destroy());
            return;
          }
          // As a body parser leaves it: the app's adapter takes a buffered body from request.body.
          delete request.headers['transfer-encoding'];
          request.headers['content-length'] = String(body.length);
          Object.assign(request, { body });
          serve(request, response);
        },
        () => request.destroy(),
      );
    },
  );
  server.keepAliveTimeout = timeouts.keepAliveMs;
  return server;
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
