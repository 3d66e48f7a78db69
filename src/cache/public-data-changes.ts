import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../config';
import type { Logger } from '../logger';
import { connectRedis, reportRedisOutages } from '../redis';

/** The Redis channel on which every process of a deployment announces that public data changed. */
const channelOf = (redisPrefix: string) => `${redisPrefix}:public-data-changed`;

/**
 * An object whose public fields changed (`id` given), or a type of which one
 * may now exist where a reader saw none (`id` absent: a new account, a new
 * paper). Ids are the database ids of the API's object types.
 */
export interface ChangedEntity {
  typename: string;
  id?: number;
}

/**
 * What changed, as precisely as the writer knows it:
 * - `entities`: these objects (cached answers that show one of them end);
 * - `votes`: the upvote counts and trending keys of these papers (answers
 *   that show one end; lists of papers, which a vote may reorder, end within
 *   their own short lifetime instead, so votes cannot empty the cache);
 * - `everything`: more than can be named (an import, an approved claim);
 * - `sessions-ended`: these sessions were revoked (not public data, but kept
 *   per process like it: every process must stop taking their tokens at once).
 */
export type PublicDataChange =
  | { kind: 'entities'; entities: readonly ChangedEntity[] }
  | { kind: 'votes'; paperIds: readonly number[] }
  | { kind: 'everything' }
  | { kind: 'sessions-ended'; sessionIds: readonly number[] };

/**
 * "Public data changed" (a vote, a comment, a reconcile, new similar papers...),
 * heard by every process that caches what anonymous readers see. Without
 * Redis there is one process and the news stays in it; with Redis it is also
 * published, so the other API replicas and the worker's writes reach every cache.
 */
export interface PublicDataChanges {
  /** Announces a change, here and to every other process; resolves once published (or given up). */
  announce(change: PublicDataChange): Promise<void>;
  /** Calls `listener` on every change announced here or elsewhere. */
  subscribe(listener: (change: PublicDataChange) => void): void;
  close(): Promise<void>;
}

const everything: PublicDataChange = { kind: 'everything' };

/** How long votes announced after a first one are gathered into its message: one PUBLISH (and one message for every process to read) per window, not per vote. */
export const VOTES_GATHERED_MS = 50;

/** A message from the channel: the change, and the process that sent it; anything unreadable (another version's message) counts as a change to everything. */
function parseMessage(message: string): { change: PublicDataChange; from?: string } {
  try {
    const { from, ...change } = JSON.parse(message) as PublicDataChange & { from?: string };
    if (change.kind === 'entities' && Array.isArray(change.entities)) return { change, from };
    if (change.kind === 'votes' && Array.isArray(change.paperIds)) return { change, from };
    if (change.kind === 'sessions-ended' && Array.isArray(change.sessionIds)) return { change, from };
  } catch {
    // Not JSON: fall through.
  }
  return { change: everything };
}

export function createPublicDataChanges({ redisUrl, redisPrefix }: Pick<AppConfig, 'redisUrl' | 'redisPrefix'>, logger: Logger): PublicDataChanges {
  const listeners: ((change: PublicDataChange) => void)[] = [];
  const notifyListeners = (change: PublicDataChange) => {
    for (const listener of listeners) listener(change);
  };
  if (!redisUrl) {
    return {
      announce: async (change) => notifyListeners(change),
      subscribe: (listener) => void listeners.push(listener),
      close: async () => {},
    };
  }
  const target = { redisUrl, redisPrefix };
  const channel = channelOf(redisPrefix);
  const publisher = connectRedis(target, 'cache-announcements');
  reportRedisOutages(publisher, logger, {
    role: 'cache-announcements',
    meanwhile: 'changes are not announced to the other processes; their cached answers end with the TTL',
  });
  let subscriber: Redis | undefined;
  // This process hears its own changes at once; its own messages coming back through Redis are skipped.
  const processId = randomUUID();
  const publish = (change: PublicDataChange) =>
    publisher.publish(channel, JSON.stringify({ ...change, from: processId })).then(
      () => {},
      (error: unknown) => {
        // A failure during an outage was reported once, with the outage.
        if (publisher.status === 'ready') logger.warn({ err: error }, 'could not announce a data change');
      },
    );
  // Votes announced within VOTES_GATHERED_MS of a first one go out with it, as one message.
  let votedPapers: Set<number> | undefined;
  let votesPublished: Promise<void> | undefined;
  let sendVotes: (() => void) | undefined;
  const publishVotes = (paperIds: readonly number[]): Promise<void> => {
    if (!votedPapers) {
      const batch = new Set<number>();
      votedPapers = batch;
      votesPublished = new Promise<void>((resolve) => {
        const send = () => {
          clearTimeout(timer);
          if (sendVotes !== send) return;
          votedPapers = undefined;
          sendVotes = undefined;
          resolve(publish({ kind: 'votes', paperIds: [...batch] }));
        };
        const timer = setTimeout(send, VOTES_GATHERED_MS);
        sendVotes = send;
      });
    }
    for (const id of paperIds) votedPapers.add(id);
    return votesPublished!;
  };
  return {
    async announce(change) {
      notifyListeners(change);
      await (change.kind === 'votes' ? publishVotes(change.paperIds) : publish(change));
    },
    subscribe(listener) {
      listeners.push(listener);
      if (subscriber) return;
      subscriber = connectRedis(target, 'cache-invalidation');
      reportRedisOutages(subscriber, logger, {
        role: 'cache-invalidation',
        meanwhile: 'changes announced elsewhere are not heard; cached answers end with the TTL, and all of them once it is back',
      });
      subscriber.on('message', (_channel: string, message: string) => {
        const { change, from } = parseMessage(message);
        if (from !== processId) notifyListeners(change);
      });
      // Messages published while the subscription was down are lost: start over with an empty cache.
      subscriber.on('ready', () => notifyListeners(everything));
      void subscriber.subscribe(channel).catch(() => {});
    },
    async close() {
      // Votes still being gathered go out first.
      sendVotes?.();
      await votesPublished;
      publisher.disconnect();
      subscriber?.disconnect();
    },
  };
}
