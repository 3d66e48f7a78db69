import DataLoader from 'dataloader';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppConfig } from './config';
import { AppError } from './errors';
import type { Logger } from './logger';
import { connectRedis, reportRedisOutages, type RedisTarget } from './redis';

/**
 * Takes `points` (one by default) of `key`'s allowance or fails with
 * RATE_LIMITED and a retry-after in seconds. Zero points spends nothing: it
 * fails only if the key already holds more than the limit's points.
 */
export interface RateLimiter {
  consume(key: string, points?: number): Promise<void>;
  /** Takes the request's share of this limit in a call to Redis shared with other limits (takeTogether). */
  readonly shareOf: (key: string, points: number) => LimitShare;
}

/** One limit's part of a takeTogether: its Redis key and window, and what to make of Redis's answer or of its absence. */
interface LimitShare {
  redis?: Redis;
  redisKey: string;
  points: number;
  windowSeconds: number;
  /** Redis's count and the window's ms left: refused past the limit. */
  settle(consumed: number, msLeft: number): Promise<void>;
  /** Redis unreachable: counted in this process. */
  takeInMemory(): Promise<void>;
}

export interface RateLimit {
  /** Namespaces the counters, e.g. "votes". */
  name: string;
  points: number;
  durationSeconds: number;
  /** What the limited person is told they did too often. */
  action: string;
}

/** The connection the rate limits (and /ready) use; see connectRedis for its options. */
export function connectRateLimitRedis(target: RedisTarget, logger: Logger): Redis {
  const redis = connectRedis(target, 'rate-limits');
  reportRedisOutages(redis, logger, {
    role: 'rate-limits',
    meanwhile: 'each process limits on its own, from the counts Redis last gave it',
  });
  return redis;
}

/**
 * Adds each key's points to its count (a new key starts at 0 with its window
 * as TTL) and answers, per key, the count and the TTL left in ms: the fixed
 * window of rate-limiter-flexible's RateLimiterRedis, on its keys, for any
 * number of keys in one call (the library takes one key per call).
 */
const TAKE_SCRIPT = `
local answers = {}
for i, key in ipairs(KEYS) do
  local seconds = ARGV[2 * i]
  redis.call('set', key, 0, 'EX', seconds, 'NX')
  local consumed = redis.call('incrby', key, ARGV[2 * i - 1])
  local ttl = redis.call('pttl', key)
  if ttl == -1 then
    redis.call('expire', key, seconds)
    ttl = 1000 * seconds
  end
  answers[2 * i - 1] = consumed
  answers[2 * i] = ttl
end
return answers`;

type TakingRedis = Redis & { rateLimitTake(keys: number, ...keysAndArgs: (string | number)[]): Promise<number[]> };

/** One share's take as Redis sees it: a key, the points added, the window of a new key. */
type Take = Pick<LimitShare, 'redisKey' | 'points' | 'windowSeconds'>;

/** The most keys one call to Redis takes (the script's arguments grow with them). */
const MAX_TAKES_PER_CALL = 256;

const batchedTakes = new WeakMap<Redis, DataLoader<Take, [consumed: number, msLeft: number]>>();

/**
 * The takes of one Redis connection, gathered over a turn of the event loop
 * (DataLoader, its batch run at setImmediate) and sent as one call: under
 * load the requests of a turn share one round trip to Redis rather than
 * taking one each. Keys may repeat in a call; the script counts each take in
 * order, as separate calls would. A failed call fails every take in it.
 */
function takesOf(redis: Redis) {
  let takes = batchedTakes.get(redis);
  if (!takes) {
    const taking = redis as TakingRedis;
    if (typeof taking.rateLimitTake !== 'function') redis.defineCommand('rateLimitTake', { lua: TAKE_SCRIPT });
    takes = new DataLoader(
      async (batch: readonly Take[]) => {
        const keys = batch.map((take) => take.redisKey);
        const args = batch.flatMap((take) => [take.points, take.windowSeconds]);
        const answers = await taking.rateLimitTake(keys.length, ...keys, ...args);
        return batch.map((_, index): [number, number] => [answers[2 * index]!, answers[2 * index + 1]!]);
      },
      { cache: false, batchScheduleFn: (send) => setImmediate(send), maxBatchSize: MAX_TAKES_PER_CALL },
    );
    batchedTakes.set(redis, takes);
  }
  return takes;
}

/**
 * Takes every share at once: in one call to Redis with the other takes of
 * this turn of the event loop (they share its connection; see takesOf), or
 * each in memory when Redis cannot answer. Rejects with the first
 * RATE_LIMITED once every share has been counted.
 */
export async function takeTogether(shares: LimitShare[]): Promise<void> {
  const redis = shares[0]?.redis;
  let answers: [number, number][] | undefined;
  if (redis && shares.every((share) => share.redis === redis)) {
    const takes = takesOf(redis);
    try {
      answers = await Promise.all(shares.map((share) => takes.load(share)));
    } catch {
      // Redis unreachable: count on here from what it last said.
      answers = undefined;
    }
  }
  const settled = await Promise.allSettled(shares.map((share, index) => (answers ? share.settle(...answers[index]!) : share.takeInMemory())));
  const refused = settled.find((result) => result.status === 'rejected');
  if (refused) throw refused.reason;
}

/**
 * Counters live in Redis when there is one, so every API replica shares them.
 * Each answer from Redis is also written to an in-memory limiter (the key's
 * count and window), so if Redis fails, that limiter goes on from what Redis
 * last said rather than from zero, and the request is limited, not failed
 * (Postgres, not Redis, decides whether a vote counts). Keys this process has
 * not seen in the window, and what other processes take during the outage,
 * it cannot know.
 */
export function createRateLimiter(limit: RateLimit, redis?: Redis): RateLimiter {
  const memory = new RateLimiterMemory({ keyPrefix: limit.name, points: limit.points, duration: limit.durationSeconds });
  const refusal = (msLeft: number) => {
    const retryAfter = Math.max(1, Math.ceil(msLeft / 1000));
    return new AppError('RATE_LIMITED', `Too many ${limit.action}: try again in ${retryAfter} s.`, { retryAfter });
  };

  /** Keeps the larger of the two counts: Redis's, or this process's own (taken while Redis was down). */
  async function remember(key: string, consumed: number, msLeft: number): Promise<void> {
    const known = await memory.get(key);
    if (known && known.consumedPoints >= consumed) return;
    await memory.set(key, consumed, msLeft > 0 ? msLeft / 1000 : limit.durationSeconds);
  }

  const shareOf = (key: string, points: number): LimitShare => ({
    redis,
    redisKey: `rate-limit:${limit.name}:${key}`,
    points,
    windowSeconds: limit.durationSeconds,
    async settle(consumed, msLeft) {
      await remember(key, consumed, msLeft);
      if (consumed > limit.points) throw refusal(msLeft);
    },
    async takeInMemory() {
      try {
        await memory.consume(key, points);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        throw refusal(error.msBeforeNext);
      }
    },
  });

  return {
    shareOf,
    consume: (key, points = 1) => takeTogether([shareOf(key, points)]),
  };
}

/** Every limit the API applies, from the settings; shared through Redis when there is one. */
export function createRateLimiters(config: AppConfig, redis?: Redis) {
  return {
    /** Every mutation, per client address and per signed-in user: a floor under the specific limits below. */
    mutations: createRateLimiter({ name: 'mutations', points: config.mutationRateLimitPerMinute, durationSeconds: 60, action: 'changes' }, redis),
    /** Upvotes and removals per user. */
    votes: createRateLimiter({ name: 'votes', points: config.voteRateLimitPerMinute, durationSeconds: 60, action: 'votes' }, redis),
    /** Comments per user. */
    comments: createRateLimiter({ name: 'comments', points: config.commentRateLimitPerMinute, durationSeconds: 60, action: 'comments' }, redis),
    /** subscribeToDigest per email address: how many confirmation mails one inbox can be sent. */
    digestSubscribeEmail: createRateLimiter(
      {
        name: 'digest-subscribe-email',
        points: config.digest.subscribePerEmailPerHour,
        durationSeconds: 3600,
        action: 'subscription requests',
      },
      redis,
    ),
    /** subscribeToDigest per client address. */
    digestSubscribeClient: createRateLimiter(
      {
        name: 'digest-subscribe-client',
        points: config.digest.subscribePerClientPerHour,
        durationSeconds: 3600,
        action: 'subscription requests',
      },
      redis,
    ),
    /** Every logIn, signUp and dashboard password check per client address, failed or not. */
    auth: createRateLimiter({ name: 'auth', points: config.authRateLimitPerMinute, durationSeconds: 60, action: 'sign-in attempts' }, redis),
    /**
     * Failed password checks per (login name, client address). Checked with
     * zero points before the password and spent after a failure, so a key is
     * refused once it holds more than `points`: the setting's count, less one.
     */
    signInFailures: createRateLimiter(
      {
        name: 'sign-in-failures',
        points: config.signInFailuresPerLoginAndAddress - 1,
        durationSeconds: 15 * 60,
        action: 'failed sign-ins for this name',
      },
      redis,
    ),
    /** Failed password checks per login name from all addresses; past it the name is under attack (checkSignIn). */
    signInFailuresPerLogin: createRateLimiter(
      {
        name: 'sign-in-failures-per-login',
        points: config.signInFailuresPerLoginPerHour - 1,
        durationSeconds: 3600,
        action: 'failed sign-ins for this name',
      },
      redis,
    ),
    /** Failed password checks per (login name, client address) in the hour: while the name is under attack, two refuse the pair. */
    signInFailuresDuringAttack: createRateLimiter(
      { name: 'sign-in-failures-during-attack', points: 1, durationSeconds: 3600, action: 'failed sign-ins for this name' },
      redis,
    ),
    /** Mails signUp sends one address (a verification link or an "address taken" notice), so it cannot flood an inbox. */
    accountMails: createRateLimiter(
      { name: 'account-mails', points: config.accountMailsPerAddressPerHour, durationSeconds: 3600, action: 'account mails to this address' },
      redis,
    ),
  };
}

export type RateLimiters = ReturnType<typeof createRateLimiters>;
