import { z } from 'zod';

const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

const positive = z.coerce.number().positive();

const environmentSchema = z.object({
  /** Postgres connection string; without it the server runs on embedded PGlite. */
  DATABASE_URL: z.string().min(1).optional(),
  /** Redis connection string; without it jobs run in-process on timers. */
  REDIS_URL: z.string().min(1).optional(),
  /** Starts every Redis key and channel of this deployment (jobs, rate limits, cache announcements): one Redis can serve several. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-" only (1 to 64)')
    .default('daily-papers'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  /** Where the embedded database (and later the mail outbox) lives. */
  DATA_DIR: z.string().default('./.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Seconds a new Postgres connection may take before the requests waiting on it fail. */
  DB_CONNECT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(120).default(5),
  /** Load the demo data set into an empty database at start; defaults to on for the embedded database only. */
  DEMO_DATA: booleanFlag.optional(),
  DEMO_PAPERS: z.coerce.number().int().min(1).max(1_000_000).default(300),
  /** H: an upvote's weight halves every H hours. */
  TRENDING_VOTE_HALF_LIFE_HOURS: positive.default(24),
  /** A: the whole paper's score halves every A hours. */
  TRENDING_AGE_HALF_LIFE_HOURS: positive.default(24 * 7),
  /** alpha: pseudo-votes every paper starts with at its start time. */
  TRENDING_PRIOR: positive.default(1),
  /** How often the reconcile job recomputes every trending key from the vote rows. */
  RECONCILE_INTERVAL_MINUTES: positive.default(15),
  /** How often every paper's similar papers are recomputed (new papers get theirs when they arrive). */
  SIMILAR_PAPERS_REFRESH_HOURS: positive.default(6),
  /** A user's stored recommendations older than this are recomputed in the background when they read them. */
  RECOMMENDATIONS_MAX_AGE_HOURS: positive.default(24),
  /** How often the tune-recommendations job refits the personal ranking's weights to the votes. */
  RECOMMENDATIONS_TUNE_HOURS: positive.default(24),
  /** A user's recommendations are recomputed this long after their first upvote of a burst (one run for the whole burst). */
  RECOMMENDATIONS_REFRESH_DELAY_SECONDS: z.coerce.number().min(0).default(30),
  /** Upvotes and removals one user may make per minute. */
  VOTE_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  /** Mutations (root fields) per client address, and per signed-in user, per minute, whatever they are. */
  MUTATION_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  /** Comments one user may post per minute. */
  COMMENT_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(5),
  SESSION_TTL_DAYS: positive.default(30),
  /** log2 of scrypt's N for new password hashes (15: 32 MiB and tens of milliseconds a hash). */
  PASSWORD_HASH_COST: z.coerce.number().int().min(10).max(20).default(15),
  /** logIn, signUp and dashboard sign-in attempts per client address per minute, failed or not. */
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  /** Failed passwords for one login name from one client address per 15 minutes; then that pair is refused. */
  SIGN_IN_FAILURES_PER_LOGIN_AND_ADDRESS: z.coerce.number().int().min(1).default(10),
  /** Failed passwords for one login name from all addresses per hour; past it, addresses that failed twice for it are refused. */
  SIGN_IN_FAILURES_PER_LOGIN_PER_HOUR: z.coerce.number().int().min(1).default(100),
  /** Account mails (verification link or "address taken" notice) one address may be sent per hour by signUp. */
  ACCOUNT_MAILS_PER_ADDRESS_PER_HOUR: z.coerce.number().int().min(1).default(3),
  /** Where links in emails and feeds point: the site's public address. */
  PUBLIC_URL: z.string().url().default('http://localhost:4000'),
  /** The arXiv API (Atom) that submitPaper looks papers up in. */
  ARXIV_API_URL: z.string().url().default('https://export.arxiv.org/api/query'),
  ARXIV_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** A paper may be submitted up to this many days after its arXiv date. */
  SUBMISSION_MAX_AGE_DAYS: z.coerce.number().int().min(0).default(14),
  SUBMISSIONS_PER_USER_PER_DAY: z.coerce.number().int().min(1).default(5),
  /** SMTP server for outgoing mail, e.g. smtp://user:pass@host:587; without it mail is written under DATA_DIR/outbox. */
  SMTP_URL: z.string().min(1).optional(),
  MAIL_FROM: z.string().min(3).default('Daily Papers <digest@localhost>'),
  /** The UTC hour at which digests go out (DAILY on weekdays, WEEKLY on Mondays). */
  DIGEST_HOUR_UTC: z.coerce.number().int().min(0).max(23).default(8),
  DIGEST_PAPER_COUNT: z.coerce.number().int().min(1).max(50).default(10),
  /** Key of the digests' unsubscribe links; shared by every API and worker process, required with SMTP_URL. */
  DIGEST_LINK_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  DIGEST_SUBSCRIBE_PER_EMAIL_PER_HOUR: z.coerce.number().int().min(1).default(3),
  DIGEST_SUBSCRIBE_PER_CLIENT_PER_HOUR: z.coerce.number().int().min(1).default(20),
  /** Browser origins allowed to call the API (comma-separated), or * for any. */
  CORS_ORIGINS: z.string().default('*'),
  /** Schema introspection (GraphiQL needs it); turn off to hide the schema. */
  INTROSPECTION: booleanFlag.default(true),
  /** Proxies in front of the API that append to X-Forwarded-For (0: clients connect directly; their socket address is used). */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** Seconds a client may take to send a request's headers (408 and the connection closed beyond). */
  HTTP_HEADERS_TIMEOUT_SECONDS: positive.default(10),
  /** Seconds a client may take to send its whole request, body included (408 beyond); not the time to answer it. */
  HTTP_REQUEST_TIMEOUT_SECONDS: positive.default(30),
  /** Seconds an idle kept-alive connection stays open. */
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: positive.default(5),
  /** The bearer token Prometheus sends for GET /metrics; unset, /metrics answers 404. */
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** Largest request body accepted, in bytes. */
  MAX_REQUEST_BYTES: z.coerce.number().int().min(1_000).default(100_000),
  QUERY_MAX_DEPTH: z.coerce.number().int().min(2).default(12),
  QUERY_MAX_ALIASES: z.coerce.number().int().min(0).default(30),
  QUERY_MAX_TOKENS: z.coerce.number().int().min(100).default(3_000),
  /** About the number of values an answer may hold, counted with the request's variables (src/graphql/query-cost.ts). */
  QUERY_MAX_COST: z.coerce.number().int().min(100).default(25_000),
  /** How long one GraphQL query may run before it stops with an error (mutations run to their end). */
  QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** About how many bytes of JSON one query's answer may grow to before it stops with an error. */
  MAX_RESPONSE_BYTES: z.coerce.number().int().min(10_000).default(5_000_000),
  /** How long an anonymous query's answer may be served from the cache (any data change ends it sooner); 0 turns the cache off. */
  RESPONSE_CACHE_TTL_SECONDS: z.coerce.number().min(0).default(60),
  RESPONSE_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).default(1_000),
  /** Bytes (of JSON) the cached answers may hold together; the least recently used leave first. */
  RESPONSE_CACHE_MAX_BYTES: z.coerce.number().int().min(10_000).default(50_000_000),
  /** An answer larger than this is never cached. */
  RESPONSE_CACHE_MAX_ENTRY_BYTES: z.coerce.number().int().min(1_000).default(1_000_000),
});

/** Real mail must not carry links signed with a key anyone can read in this file. */
const DEVELOPMENT_DIGEST_LINK_SECRET = 'daily-papers-development-digest-link-secret';

export interface TrendingSettings {
  voteHalfLifeHours: number;
  ageHalfLifeHours: number;
  prior: number;
}

export interface RecommendationSettings {
  similarPapersRefreshHours: number;
  maxAgeHours: number;
  refreshDelayMs: number;
  /** How often the personal ranking is refitted (tune-recommendations). */
  tuneHours: number;
}

export interface AppConfig {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  redisPrefix: string;
  port: number;
  host: string;
  dataDir: string;
  logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
  dbPoolSize: number;
  dbConnectTimeoutSeconds: number;
  demoData: boolean;
  demoPapers: number;
  trending: TrendingSettings;
  reconcileIntervalMinutes: number;
  recommendations: RecommendationSettings;
  voteRateLimitPerMinute: number;
  commentRateLimitPerMinute: number;
  mutationRateLimitPerMinute: number;
  sessionTtlDays: number;
  passwordHashCost: number;
  authRateLimitPerMinute: number;
  signInFailuresPerLoginAndAddress: number;
  signInFailuresPerLoginPerHour: number;
  accountMailsPerAddressPerHour: number;
  publicUrl: string;
  arxiv: { apiUrl: string; timeoutMs: number };
  submissions: { maxAgeDays: number; perUserPerDay: number };
  mail: { smtpUrl: string | undefined; from: string };
  http: { corsOrigins: string[] | '*'; introspection: boolean; maxRequestBytes: number; trustedProxyHops: number };
  metricsToken: string | undefined;
  listenerTimeouts: { headersMs: number; requestMs: number; keepAliveMs: number };
  queryLimits: { maxDepth: number; maxAliases: number; maxTokens: number; maxCost: number; timeoutMs: number; maxResponseBytes: number };
  responseCache: { ttlMs: number; maxEntries: number; maxBytes: number; maxEntryBytes: number };
  digest: {
    hourUtc: number;
    paperCount: number;
    linkSecret: string;
    subscribePerEmailPerHour: number;
    subscribePerClientPerHour: number;
  };
}

/** Reads the configuration from the environment; a bad value stops the process with a message naming it. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const env = parsed.data;
  if (env.HTTP_HEADERS_TIMEOUT_SECONDS > env.HTTP_REQUEST_TIMEOUT_SECONDS) {
    throw new Error('Invalid configuration:\n  HTTP_HEADERS_TIMEOUT_SECONDS: at most HTTP_REQUEST_TIMEOUT_SECONDS');
  }
  if (env.SMTP_URL && !env.DIGEST_LINK_SECRET) {
    throw new Error('Invalid configuration:\n  DIGEST_LINK_SECRET: required with SMTP_URL (at least 32 random characters)');
  }
  return {
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX,
    port: env.PORT,
    host: env.HOST,
    dataDir: env.DATA_DIR,
    logLevel: env.LOG_LEVEL,
    dbPoolSize: env.DB_POOL_SIZE,
    dbConnectTimeoutSeconds: env.DB_CONNECT_TIMEOUT_SECONDS,
    demoData: env.DEMO_DATA ?? env.DATABASE_URL === undefined,
    demoPapers: env.DEMO_PAPERS,
    trending: {
      voteHalfLifeHours: env.TRENDING_VOTE_HALF_LIFE_HOURS,
      ageHalfLifeHours: env.TRENDING_AGE_HALF_LIFE_HOURS,
      prior: env.TRENDING_PRIOR,
    },
    reconcileIntervalMinutes: env.RECONCILE_INTERVAL_MINUTES,
    recommendations: {
      similarPapersRefreshHours: env.SIMILAR_PAPERS_REFRESH_HOURS,
      maxAgeHours: env.RECOMMENDATIONS_MAX_AGE_HOURS,
      refreshDelayMs: env.RECOMMENDATIONS_REFRESH_DELAY_SECONDS * 1000,
      tuneHours: env.RECOMMENDATIONS_TUNE_HOURS,
    },
    voteRateLimitPerMinute: env.VOTE_RATE_LIMIT_PER_MINUTE,
    commentRateLimitPerMinute: env.COMMENT_RATE_LIMIT_PER_MINUTE,
    mutationRateLimitPerMinute: env.MUTATION_RATE_LIMIT_PER_MINUTE,
    sessionTtlDays: env.SESSION_TTL_DAYS,
    passwordHashCost: env.PASSWORD_HASH_COST,
    authRateLimitPerMinute: env.AUTH_RATE_LIMIT_PER_MINUTE,
    signInFailuresPerLoginAndAddress: env.SIGN_IN_FAILURES_PER_LOGIN_AND_ADDRESS,
    signInFailuresPerLoginPerHour: env.SIGN_IN_FAILURES_PER_LOGIN_PER_HOUR,
    accountMailsPerAddressPerHour: env.ACCOUNT_MAILS_PER_ADDRESS_PER_HOUR,
    publicUrl: env.PUBLIC_URL.replace(/\/+$/, ''),
    arxiv: { apiUrl: env.ARXIV_API_URL, timeoutMs: env.ARXIV_TIMEOUT_MS },
    submissions: { maxAgeDays: env.SUBMISSION_MAX_AGE_DAYS, perUserPerDay: env.SUBMISSIONS_PER_USER_PER_DAY },
    mail: { smtpUrl: env.SMTP_URL, from: env.MAIL_FROM },
    http: {
      corsOrigins: env.CORS_ORIGINS.trim() === '*' ? '*' : env.CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean),
      introspection: env.INTROSPECTION,
      maxRequestBytes: env.MAX_REQUEST_BYTES,
      trustedProxyHops: env.TRUSTED_PROXY_HOPS,
    },
    metricsToken: env.METRICS_TOKEN,
    listenerTimeouts: {
      headersMs: env.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
      requestMs: env.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
      keepAliveMs: env.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
    },
    queryLimits: {
      maxDepth: env.QUERY_MAX_DEPTH,
      maxAliases: env.QUERY_MAX_ALIASES,
      maxTokens: env.QUERY_MAX_TOKENS,
      maxCost: env.QUERY_MAX_COST,
      timeoutMs: env.QUERY_TIMEOUT_MS,
      maxResponseBytes: env.MAX_RESPONSE_BYTES,
    },
    responseCache: {
      ttlMs: env.RESPONSE_CACHE_TTL_SECONDS * 1000,
      maxEntries: env.RESPONSE_CACHE_MAX_ENTRIES,
      maxBytes: env.RESPONSE_CACHE_MAX_BYTES,
      maxEntryBytes: env.RESPONSE_CACHE_MAX_ENTRY_BYTES,
    },
    digest: {
      hourUtc: env.DIGEST_HOUR_UTC,
      paperCount: env.DIGEST_PAPER_COUNT,
      linkSecret: env.DIGEST_LINK_SECRET ?? DEVELOPMENT_DIGEST_LINK_SECRET,
      subscribePerEmailPerHour: env.DIGEST_SUBSCRIBE_PER_EMAIL_PER_HOUR,
      subscribePerClientPerHour: env.DIGEST_SUBSCRIBE_PER_CLIENT_PER_HOUR,
    },
  };
}
