import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
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
  const shared =
    redis &&
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `rate-limit:${limit.name}`,
      points: limit.points,
      duration: limit.durationSeconds,
      rejectIfRedisNotReady: true,
    });

  /** Keeps the larger of the two counts: Redis's, or this process's own (taken while Redis was down). */
  async function remember(key: string, answer: RateLimiterRes): Promise<void> {
    const known = await memory.get(key);
    if (known && known.consumedPoints >= answer.consumedPoints) return;
    const windowSeconds = answer.msBeforeNext > 0 ? answer.msBeforeNext / 1000 : limit.durationSeconds;
    await memory.set(key, answer.consumedPoints, windowSeconds);
  }

  async function take(key: string, points: number): Promise<void> {
    if (!shared) {
      await memory.consume(key, points);
      return;
    }
    let answer: RateLimiterRes;
    try {
      answer = await shared.consume(key, points);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        await remember(key, error);
        throw error;
      }
      // Redis unreachable: count on here from what it last said.
      await memory.consume(key, points);
      return;
    }
    await remember(key, answer);
  }

  return {
    async consume(key, points = 1) {
      try {
        await take(key, points);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        throw new AppError('RATE_LIMITED', `Too many ${limit.action}: try again in ${retryAfter} s.`, { retryAfter });
      }
    },
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
