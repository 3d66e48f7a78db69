import type { Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import type { App } from '../src/app';
import { schema } from '../src/graphql/schema';
import { createHttpServer, type HttpServerOptions } from '../src/http-server';
import { createLogger } from '../src/logger';
import { setUpFileApp, testApp } from './support/file-app';

setUpFileApp({}, { truncateBeforeEach: false });

/** Runs `test` against a listener of `app` on a free port. */
async function withListener(app: App, options: HttpServerOptions, test: (port: number) => Promise<void>) {
  const listener: Server = createHttpServer(app, options);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  try {
    await test((listener.address() as AddressInfo).port);
  } finally {
    listener.closeAllConnections();
    await new Promise((resolve) => listener.close(resolve));
  }
}

interface RawAnswer {
  statusLine: string;
  headers: string;
  body: string;
}

/** Everything the server sends on `socket` until it closes the connection. */
async function answerOn(socket: Socket): Promise<RawAnswer> {
  let text = '';
  for await (const chunk of socket) text += String(chunk);
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...headers] = head.split('\r\n');
  return { statusLine, headers: headers.join('\n').toLowerCase(), body };
}

/** Sends raw bytes (the server closes the connection after its answer) and returns that answer. */
async function rawRequest(port: number, text: string): Promise<RawAnswer> {
  const socket = connect(port, '127.0.0.1');
  socket.end(text);
  return answerOn(socket);
}

describe('the HTTP listener', () => {
  it('answers a request without a Host header with 400, and one with it as usual', async () => {
    await withListener(testApp.app, {}, async (port) => {
      expect((await rawRequest(port, 'GET /health HTTP/1.0\r\n\r\n')).statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect((await rawRequest(port, 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n')).statusLine).toBe('HTTP/1.1 200 OK');
    });
  });

  it('refuses a malformed Host or request target with a short 400, never a stack trace', async () => {
    await withListener(testApp.app, {}, async (port) => {
      for (const request of [
        'GET /health HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n',
        'GET /health HTTP/1.1\r\nHost: exa%mple\r\nConnection: close\r\n\r\n',
        'GET /health HTTP/1.1\r\nHost: [zz]\r\nConnection: close\r\n\r\n',
        'GET http://a%20b/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
        'GET http://user:pw@localhost/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
        'GET ftp://localhost/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
        'GET * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
      ]) {
        const answer = await rawRequest(port, request);
        expect(answer.statusLine, request).toBe('HTTP/1.1 400 Bad Request');
        expect(answer.headers).toContain('content-type: text/plain');
        expect(answer.body.length).toBeLessThan(100);
        expect(answer.body).not.toMatch(/at |node_modules|Error/);
      }
    });
  });

  it('serves an absolute-form target as its path, and answers OPTIONS * with the methods it allows', async () => {
    await withListener(testApp.app, {}, async (port) => {
      const health = await rawRequest(port, 'GET http://localhost:4000/health HTTP/1.1\r\nHost: ignored.example\r\nConnection: close\r\n\r\n');
      expect(health.statusLine).toBe('HTTP/1.1 200 OK');
      const graphql = await rawRequest(
        port,
        'GET http://localhost/graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: localhost\r\nx-graphql-yoga-csrf: 1\r\nConnection: close\r\n\r\n',
      );
      expect(graphql.statusLine).toBe('HTTP/1.1 200 OK');
      expect(graphql.body).toContain('"__typename":"Query"');
      const options = await rawRequest(port, 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      expect(options.statusLine).toBe('HTTP/1.1 204 No Content');
      expect(options.headers).toMatch(/^allow: GET, HEAD, POST, OPTIONS$/im);
    });
  });

  it('answers a failure before the app answers with a masked 500, logged with its request id', async () => {
    const logged: Record<string, unknown>[] = [];
    const logger = createLogger('error');
    logger.error = ((entry: Record<string, unknown>) => {
      logged.push(entry);
    }) as typeof logger.error;
    const failing = createYoga({
      schema,
      plugins: [
        {
          onRequest() {
            throw new Error('secret internals');
          },
        },
      ],
    }) as unknown as App;
    await withListener(failing, { logger }, async (port) => {
      const answer = await rawRequest(port, 'GET /graphql HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      expect(answer.statusLine).toMatch(/^HTTP\/1.1 500\b/);
      expect(answer.body).toContain('Unexpected error.');
      expect(answer.body).not.toMatch(/secret|at /);
      const requestId = /^x-request-id: (\S+)$/m.exec(answer.headers)?.[1];
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(logged).toEqual([expect.objectContaining({ requestId, url: '/graphql' })]);
      expect(String((logged[0]!.err as Error).message)).toBe('secret internals');
    });
  });
});

describe('slow clients', () => {
  const timeouts = { headersMs: 300, requestMs: 600, keepAliveMs: 300 };

  /** Writes `first`, then one byte of `drip` at a time until the server closes the connection; returns its answer. */
  async function drip(port: number, first: string, drip: string): Promise<RawAnswer> {
    const socket = connect(port, '127.0.0.1');
    socket.write(first);
    let sent = 0;
    const timer = setInterval(() => {
      if (!socket.destroyed && !socket.writableEnded) socket.write(drip[sent++ % drip.length]!);
    }, 20);
    socket.on('error', () => {});
    try {
      return await answerOn(socket);
    } finally {
      clearInterval(timer);
    }
  }

  it('are cut off with a 408 when their headers drip in', async () => {
    await withListener(testApp.app, { timeouts }, async (port) => {
      const answer = await drip(port, 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ', 'a');
      expect(answer.statusLine).toBe('HTTP/1.1 408 Request Timeout');
    });
  });

  it('are told apart from a slow answer: a request received in time is answered however long the app takes', async () => {
    const slow = createYoga({
      schema,
      plugins: [
        {
          async onRequest({ endResponse, fetchAPI }) {
            await new Promise((resolve) => setTimeout(resolve, timeouts.requestMs * 2));
            endResponse(new fetchAPI.Response('late but whole'));
          },
        },
      ],
    }) as unknown as App;
    await withListener(slow, { timeouts }, async (port) => {
      // The socket stays open for writing: Node times out a client that half-closes before its answer like one still sending.
      const socket = connect(port, '127.0.0.1');
      socket.write('POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
      const answer = await answerOn(socket);
      expect(answer.statusLine).toBe('HTTP/1.1 200 OK');
      expect(answer.body).toContain('late but whole');
    });
  });

  it('are cut off with a 408 when their body drips in', async () => {
    await withListener(testApp.app, { timeouts }, async (port) => {
      const answer = await drip(
        port,
        'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"query":"',
        ' ',
      );
      expect(answer.statusLine).toBe('HTTP/1.1 408 Request Timeout');
    });
  });
});
