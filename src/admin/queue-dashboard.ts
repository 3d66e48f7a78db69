import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { eq } from 'drizzle-orm';
import type { AppConfig } from '../config';
import { clientAddressOf } from '../http/client-address';
import type { Database } from '../db/client';
import { users } from '../db/schema';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { checkSignIn, type SignInLimiters } from '../modules/accounts/accounts';
import { findViewer } from '../modules/accounts/sessions';

/** Where the dashboard lives; everything under it is the dashboard's (its page, API and assets). */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';
export const QUEUE_DASHBOARD_CHALLENGE = 'Basic realm="Daily Papers admin"';

/** How long a checked Basic credential is remembered (as a keyed digest) before the KDF runs again. */
const VERIFIED_TTL_MS = 15 * 60_000;
const VERIFIED_MAX_ENTRIES = 1_000;

export interface QueueDashboardOptions {
  db: Database;
  config: AppConfig;
  logger: Logger;
  /** The BullMQ queues to show; none (jobs run in-process) and the dashboard answers 404. */
  queues: Queue[];
  /** Password checks of Basic auth count against logIn's limits: guessing here is guessing there. */
  signInLimiters: SignInLimiters;
}

export interface QueueDashboard {
  /** Answers the request if its path is under /admin/queues and returns true; false leaves it to the caller. */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
}

/** bull-board's Express app: a node:http handler with Express's `next` for what it does not serve. */
interface ExpressApp {
  (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void): void;
  disable(setting: string): unknown;
}

type Access = { granted: true } | { granted: false; status: 401 | 403; message: string };

/**
 * The bull-board dashboard, for admins only. A browser signs in with HTTP
 * Basic auth (username or email and password, checked like logIn); API clients
 * may send an admin's session as `Authorization: Bearer <token>`.
 */
export function createQueueDashboard({ db, config, logger, queues, signInLimiters }: QueueDashboardOptions): QueueDashboard {
  const board = queues.length > 0 ? createBoard(queues) : undefined;
  const checkAccess = accessChecker(db, config, signInLimiters);

  async function serve(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    // Never inside another site's frame: its buttons (retry, clean, pause) must not be clickable through a disguise.
    response.setHeader('x-frame-options', 'DENY');
    response.setHeader('content-security-policy', "frame-ancestors 'none'");
    if (!board) {
      answer(response, 404, 'The queue dashboard needs REDIS_URL: without Redis the jobs run in-process, with no queue.');
      return;
    }
    if (!isSafeMethod(request.method) && isCrossSite(request)) {
      // The browser sends Basic credentials on its own: a page elsewhere must not retry or clean jobs.
      answer(response, 403, 'Changes to the queues must come from the dashboard itself.');
      return;
    }
    let access: Access;
    try {
      access = await checkAccess(request);
    } catch (error) {
      if (!(error instanceof AppError) || error.extensions.code !== 'RATE_LIMITED') throw error;
      answer(response, 429, error.message, { 'retry-after': String(error.extensions.retryAfter) });
      return;
    }
    if (!access.granted) {
      const challenge = access.status === 401 ? { 'www-authenticate': QUEUE_DASHBOARD_CHALLENGE } : undefined;
      answer(response, access.status, access.message, challenge);
      return;
    }
    // bull-board's routes are relative to where it is mounted ("/", "/api/queues", "/static/...").
    request.url = path;
    board(request, response, (error) => {
      if (error) fail(error, response);
      else answer(response, 404, 'Not found.');
    });
  }

  function fail(error: unknown, response: ServerResponse) {
    logger.error({ err: error }, 'queue dashboard request failed');
    if (!response.headersSent) answer(response, 500, 'Unexpected error.');
    else response.destroy();
  }

  return {
    handle(request, response) {
      const path = pathUnderDashboard(request.url ?? '/');
      if (path === undefined) return false;
      serve(request, response, path).catch((error: unknown) => fail(error, response));
      return true;
    },
  };
}

function createBoard(queues: Queue[]): ExpressApp {
  const serverAdapter = new ExpressAdapter().setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Daily Papers jobs' } },
  });
  const app = serverAdapter.getRouter() as ExpressApp;
  app.disable('x-powered-by');
  return app;
}

/** The request target relative to the dashboard ("/admin/queues/api/queues?x" -> "/api/queues?x"), or undefined if outside it. */
function pathUnderDashboard(target: string): string | undefined {
  const queryStart = target.indexOf('?');
  const pathname = queryStart === -1 ? target : target.slice(0, queryStart);
  if (pathname !== QUEUE_DASHBOARD_PATH && !pathname.startsWith(`${QUEUE_DASHBOARD_PATH}/`)) return undefined;
  const rest = pathname.slice(QUEUE_DASHBOARD_PATH.length) || '/';
  return queryStart === -1 ? rest : rest + target.slice(queryStart);
}

/**
 * Who may see the dashboard: an admin by Basic credentials or Bearer session.
 * A Basic credential that passed the KDF is remembered as an HMAC under a key
 * of this process (never the password), so the dashboard's polling does not
 * run scrypt every few seconds; each request still reads the account, so a
 * changed password or a lost admin role takes effect at once.
 */
function accessChecker(db: Database, config: AppConfig, signInLimiters: SignInLimiters) {
  const digestKey = randomBytes(32);
  const verified = new Map<string, { userId: number; passwordHash: string; expiresAt: number }>();

  async function basicUser(credentials: string, clientAddress: string): Promise<{ id: number; role: string } | undefined> {
    const digest = createHmac('sha256', digestKey).update(credentials).digest('base64url');
    const remembered = verified.get(digest);
    if (remembered && remembered.expiresAt > Date.now()) {
      const [user] = await db
        .select({ id: users.id, role: users.role, passwordHash: users.passwordHash })
        .from(users)
        .where(eq(users.id, remembered.userId));
      if (user && user.passwordHash === remembered.passwordHash) return user;
    }
    verified.delete(digest);

    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return undefined;
    const user = await checkSignIn(db, config, signInLimiters, clientAddress, {
      usernameOrEmail: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
    });
    if (!user?.passwordHash) return undefined;
    if (verified.size >= VERIFIED_MAX_ENTRIES) {
      for (const [key, entry] of verified) if (entry.expiresAt <= Date.now()) verified.delete(key);
      if (verified.size >= VERIFIED_MAX_ENTRIES) verified.delete(verified.keys().next().value!);
    }
    verified.set(digest, { userId: user.id, passwordHash: user.passwordHash, expiresAt: Date.now() + VERIFIED_TTL_MS });
    return user;
  }

  return async function checkAccess(request: IncomingMessage): Promise<Access> {
    const [scheme = '', credentials = ''] = (request.headers.authorization ?? '').trim().split(/\s+/, 2);
    let user: { role: string } | undefined;
    if (/^basic$/i.test(scheme) && credentials) {
      user = await basicUser(credentials, clientAddressOf(request, config.http.trustedProxyHops));
    } else if (/^bearer$/i.test(scheme) && credentials) {
      user = (await findViewer(db, credentials, new Date()))?.user;
    } else {
      return { granted: false, status: 401, message: 'Sign in with an admin account.' };
    }
    if (!user) return { granted: false, status: 401, message: 'Wrong username, email or password, or an invalid session.' };
    if (user.role !== 'admin') return { granted: false, status: 403, message: 'Only admins may see the queue dashboard.' };
    return { granted: true };
  };
}

const isSafeMethod = (method = 'GET') => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';

/** Whether a browser says the request comes from another site (Sec-Fetch-Site, else Origin against Host). */
function isCrossSite(request: IncomingMessage): boolean {
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite) return fetchSite !== 'same-origin' && fetchSite !== 'none';
  const origin = request.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

function answer(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(message);
}
