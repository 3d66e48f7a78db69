import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/http-server';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
const server = () => createHttpServer(testApp.app);

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

/** Sends raw bytes and returns the first line of the answer. */
async function rawRequest(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.end(text);
  let answer = '';
  for await (const chunk of socket) answer += String(chunk);
  return answer.split('\r\n')[0]!;
}

describe('the HTTP listener', () => {
  it('answers a request without a Host header with 400, and one with it as usual', async () => {
    const listener = server();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = listener.address() as AddressInfo;
      expect(await rawRequest(port, 'GET /health HTTP/1.0\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
      expect(await rawRequest(port, 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n')).toBe('HTTP/1.1 200 OK');
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});
