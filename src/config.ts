import { z } from 'zod';

/** The environment variable each setting of the schema below is read from. */
const environment = z.registry<{ variable: string }>();

/** A setting read from the environment variable `variable`, validated (and converted) by `schema`. */
function env<S extends z.ZodType>(variable: string, schema: S): S {
  environment.add(schema, { variable });
  return schema;
}

const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const positive = z.coerce.number().positive();

const toMs = (seconds: number) => seconds * 1000;

/** Real mail must not carry links signed with a key anyone can read in this file. */
const DEVELOPMENT_DIGEST_LINK_SECRET = 'daily-papers-development-digest-link-secret';

/**
 * Every setting, once: where it sits in the config, the environment variable
 * it comes from, its validation and default. README's configuration table
 * lists them all (tests/config.test.ts checks).
 */
const settingsSchema = z.object({
  /** Postgres connection string; without it the server runs on embedded PGlite. */
  databaseUrl: env('DATABASE_URL', z.string().min(1).optional()),
  /** Redis connection string; without it jobs run in-process on timers. */
  redisUrl: env('REDIS_URL', z.string().min(1).optional()),
  /** Starts every Redis key and channel of this deployment (jobs, rate limits, cache announcements): one Redis can serve several. */
  redisPrefix: env(
    'REDIS_PREFIX',
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-" only (1 to 64)')
      .default('daily-papers'),
  ),
  port: env('PORT', z.coerce.number().int().min(0).max(65535).default(4000)),
  host: env('HOST', z.string().default('0.0.0.0')),
  /** Where the embedded database (and later the mail outbox) lives. */
  dataDir: env('DATA_DIR', z.string().default('./.data')),
  logLevel: env('LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  dbPoolSize: env('DB_POOL_SIZE', z.coerce.number().int().min(1).max(200).default(10)),
  /** Seconds a new Postgres connection may take before the requests waiting on it fail. */
  dbConnectTimeoutSeconds: env('DB_CONNECT_TIMEOUT_SECONDS', z.coerce.number().int().min(1).max(120).default(5)),
  /** Load the demo data set into an empty database at start; defaults to on for the embedded database only (below). */
  demoData: env('DEMO_DATA', booleanFlag.optional()),
  demoPapers: env('DEMO_PAPERS', z.coerce.number().int().min(1).max(1_000_000).default(300)),
  trending: z.object({
    /** H: an upvote's weight halves every H hours. */
    voteHalfLifeHours: env('TRENDING_VOTE_HALF_LIFE_HOURS', positive.default(24)),
    /** A: the whole paper's score halves every A hours. */
    ageHalfLifeHours: env('TRENDING_AGE_HALF_LIFE_HOURS', positive.default(24 * 7)),
    /** alpha: pseudo-votes every paper starts with at its start time. */
    prior: env('TRENDING_PRIOR', positive.default(1)),
  }),
  /** How often the reconcile job recomputes every trending key from the vote rows. */
  reconcileIntervalMinutes: env('RECONCILE_INTERVAL_MINUTES', positive.default(15)),
  recommendations: z.object({
    /** How often every paper's similar papers are recomputed (new papers get theirs when they arrive). */
    similarPapersRefreshHours: env('SIMILAR_PAPERS_REFRESH_HOURS', positive.default(6)),
    /** A user's stored recommendations older than this are recomputed in the background when they read them. */
    maxAgeHours: env('RECOMMENDATIONS_MAX_AGE_HOURS', positive.default(24)),
    /** A user's recommendations are recomputed this long after their first upvote of a burst (one run for the whole burst). */
    refreshDelayMs: env('RECOMMENDATIONS_REFRESH_DELAY_SECONDS', z.coerce.number().min(0).default(30).transform(toMs)),
    /** How often the tune-recommendations job refits the personal ranking's weights to the votes. */
    tuneHours: env('RECOMMENDATIONS_TUNE_HOURS', positive.default(24)),
  }),
  search: z.object({
    /** How often the fit-search-model job refits the semantic search's model (LSA) to every paper; new papers are folded in as they arrive. */
    modelRefitHours: env('SEARCH_MODEL_REFIT_HOURS', positive.default(24)),
    /** k: the latent dimensions of the semantic search's vectors. */
    modelDimensions: env('SEARCH_MODEL_DIMENSIONS', z.coerce.number().int().min(2).max(512).default(96)),
  }),
  /** Upvotes and removals one user may make per minute. */
  voteRateLimitPerMinute: env('VOTE_RATE_LIMIT_PER_MINUTE', z.coerce.number().int().min(1).default(30)),
  /** Comments one user may post per minute. */
  commentRateLimitPerMinute: env('COMMENT_RATE_LIMIT_PER_MINUTE', z.coerce.number().int().min(1).default(5)),
  /** Mutations (root fields) per client address, and per signed-in user, per minute, whatever they are. */
  mutationRateLimitPerMinute: env('MUTATION_RATE_LIMIT_PER_MINUTE', z.coerce.number().int().min(1).default(120)),
  /** How many things (authors, organizations, categories, keywords, saved searches) one user may follow. */
  followsPerUser: env('FOLLOWS_PER_USER', z.coerce.number().int().min(1).max(10_000).default(200)),
  /** At most this many NEW_PAPER notifications one notify job run makes for one paper (the rest is logged, not made). */
  notificationFanOutLimit: env('NOTIFICATION_FAN_OUT_LIMIT', z.coerce.number().int().min(1).default(10_000)),
  sessionTtlDays: env('SESSION_TTL_DAYS', positive.default(30)),
  /** How long a process may keep a session it read (a logOut ends it everywhere at once; `0`: read on every request). */
  sessionCacheMs: env('SESSION_CACHE_SECONDS', z.coerce.number().min(0).default(10).transform(toMs)),
  /** log2 of scrypt's N for new password hashes (15: 32 MiB and tens of milliseconds a hash). */
  passwordHashCost: env('PASSWORD_HASH_COST', z.coerce.number().int().min(10).max(20).default(15)),
  /** logIn, signUp and dashboard sign-in attempts per client address per minute, failed or not. */
  authRateLimitPerMinute: env('AUTH_RATE_LIMIT_PER_MINUTE', z.coerce.number().int().min(1).default(10)),
  /** Failed passwords for one login name from one client address per 15 minutes; then that pair is refused. */
  signInFailuresPerLoginAndAddress: env('SIGN_IN_FAILURES_PER_LOGIN_AND_ADDRESS', z.coerce.number().int().min(1).default(10)),
  /** Failed passwords for one login name from all addresses per hour; past it, addresses that failed twice for it are refused. */
  signInFailuresPerLoginPerHour: env('SIGN_IN_FAILURES_PER_LOGIN_PER_HOUR', z.coerce.number().int().min(1).default(100)),
  /** Account mails (verification link or "address taken" notice) one address may be sent per hour by signUp. */
  accountMailsPerAddressPerHour: env('ACCOUNT_MAILS_PER_ADDRESS_PER_HOUR', z.coerce.number().int().min(1).default(3)),
  /** Where links in emails and feeds point: the site's public address (without a trailing slash). */
  publicUrl: env(
    'PUBLIC_URL',
    z
      .string()
      .url()
      .default('http://localhost:4000')
      .transform((url) => url.replace(/\/+$/, '')),
  ),
  arxiv: z.object({
    /** The arXiv API (Atom) that submitPaper looks papers up in. */
    apiUrl: env('ARXIV_API_URL', z.string().url().default('https://export.arxiv.org/api/query')),
    timeoutMs: env('ARXIV_TIMEOUT_MS', z.coerce.number().int().min(100).default(10_000)),
    /** The pause after each request of the categories job: arXiv asks for no more than one request every 3 seconds. */
    requestIntervalMs: env('ARXIV_REQUEST_INTERVAL_MS', z.coerce.number().int().min(0).default(3_000)),
    /** Papers the categories job asks about in one request (id_list). */
    batchSize: env('ARXIV_BATCH_SIZE', z.coerce.number().int().min(1).max(500).default(100)),
    /** How often the categories job looks for papers whose categories were never taken from arXiv. */
    categoriesFillHours: env('ARXIV_CATEGORIES_FILL_HOURS', positive.default(1)),
  }),
  submissions: z.object({
    /** A paper may be submitted up to this many days after its arXiv date. */
    maxAgeDays: env('SUBMISSION_MAX_AGE_DAYS', z.coerce.number().int().min(0).default(14)),
    perUserPerDay: env('SUBMISSIONS_PER_USER_PER_DAY', z.coerce.number().int().min(1).default(5)),
  }),
  mail: z.object({
    /** SMTP server for outgoing mail, e.g. smtp://user:pass@host:587; without it mail is written under DATA_DIR/outbox. */
    smtpUrl: env('SMTP_URL', z.string().min(1).optional()),
    from: env('MAIL_FROM', z.string().min(3).default('Daily Papers <digest@localhost>')),
  }),
  http: z.object({
    /** Browser origins allowed to call the API (comma-separated), or * for any. */
    corsOrigins: env(
      'CORS_ORIGINS',
      z
        .string()
        .default('*')
        .transform((origins): string[] | '*' =>
          origins.trim() === '*'
            ? '*'
            : origins
                .split(',')
                .map((origin) => origin.trim())
                .filter(Boolean),
        ),
    ),
    /** Schema introspection (GraphiQL needs it); turn off to hide the schema. */
    introspection: env('INTROSPECTION', booleanFlag.default(true)),
    /** Largest request body accepted, in bytes. */
    maxRequestBytes: env('MAX_REQUEST_BYTES', z.coerce.number().int().min(1_000).default(100_000)),
    /** Proxies in front of the API that append to X-Forwarded-For (0: clients connect directly; their socket address is used). */
    trustedProxyHops: env('TRUSTED_PROXY_HOPS', z.coerce.number().int().min(0).max(10).default(0)),
  }),
  /** The bearer token Prometheus sends for GET /metrics; unset, /metrics answers 404. */
  metricsToken: env('METRICS_TOKEN', z.string().min(16, 'at least 16 characters').optional()),
  listenerTimeouts: z.object({
    /** Seconds a client may take to send a request's headers (408 and the connection closed beyond). */
    headersMs: env('HTTP_HEADERS_TIMEOUT_SECONDS', positive.default(10).transform(toMs)),
    /** Seconds a client may take to send its whole request, body included (408 beyond); not the time to answer it. */
    requestMs: env('HTTP_REQUEST_TIMEOUT_SECONDS', positive.default(30).transform(toMs)),
    /** Seconds an idle kept-alive connection stays open. */
    keepAliveMs: env('HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', positive.default(5).transform(toMs)),
  }),
  queryLimits: z.object({
    maxDepth: env('QUERY_MAX_DEPTH', z.coerce.number().int().min(2).default(12)),
    maxAliases: env('QUERY_MAX_ALIASES', z.coerce.number().int().min(0).default(30)),
    maxTokens: env('QUERY_MAX_TOKENS', z.coerce.number().int().min(100).default(3_000)),
    /** About the number of values an answer may hold, counted with the request's variables (src/graphql/query-cost.ts). */
    maxCost: env('QUERY_MAX_COST', z.coerce.number().int().min(100).default(25_000)),
    /** How long one GraphQL query may run before it stops with an error (mutations run to their end). */
    timeoutMs: env('QUERY_TIMEOUT_MS', z.coerce.number().int().min(100).default(10_000)),
    /** About how many bytes of JSON one query's answer may grow to before it stops with an error. */
    maxResponseBytes: env('MAX_RESPONSE_BYTES', z.coerce.number().int().min(10_000).default(5_000_000)),
  }),
  responseCache: z.object({
    /** How long an anonymous query's answer may be served from the cache (any data change ends it sooner); 0 turns the cache off. */
    ttlMs: env('RESPONSE_CACHE_TTL_SECONDS', z.coerce.number().min(0).default(60).transform(toMs)),
    /** How long an anonymous answer holding a list of papers may be served: votes, which may reorder any list, leave it stale this long at most. */
    listMaxAgeMs: env('RESPONSE_CACHE_LIST_MAX_AGE_SECONDS', z.coerce.number().min(0).default(1).transform(toMs)),
    maxEntries: env('RESPONSE_CACHE_MAX_ENTRIES', z.coerce.number().int().min(1).default(1_000)),
    /** Bytes (of JSON) the cached answers may hold together; the least recently used leave first. */
    maxBytes: env('RESPONSE_CACHE_MAX_BYTES', z.coerce.number().int().min(10_000).default(50_000_000)),
    /** An answer larger than this is never cached. */
    maxEntryBytes: env('RESPONSE_CACHE_MAX_ENTRY_BYTES', z.coerce.number().int().min(1_000).default(1_000_000)),
  }),
  digest: z.object({
    /** The UTC hour at which digests go out (DAILY on weekdays, WEEKLY on Mondays). */
    hourUtc: env('DIGEST_HOUR_UTC', z.coerce.number().int().min(0).max(23).default(8)),
    paperCount: env('DIGEST_PAPER_COUNT', z.coerce.number().int().min(1).max(50).default(10)),
    /** Key of the digests' unsubscribe links; shared by every API and worker process, required with SMTP_URL. */
    linkSecret: env('DIGEST_LINK_SECRET', z.string().min(32, 'at least 32 characters').optional()),
    subscribePerEmailPerHour: env('DIGEST_SUBSCRIBE_PER_EMAIL_PER_HOUR', z.coerce.number().int().min(1).default(3)),
    subscribePerClientPerHour: env('DIGEST_SUBSCRIBE_PER_CLIENT_PER_HOUR', z.coerce.number().int().min(1).default(20)),
  }),
});

/** The settings that depend on one another: checked, and defaulted, once each is valid on its own. */
const configSchema = settingsSchema.transform((settings, context) => {
  if (settings.listenerTimeouts.headersMs > settings.listenerTimeouts.requestMs) {
    context.issues.push({
      code: 'custom',
      input: settings.listenerTimeouts.headersMs,
      path: ['listenerTimeouts', 'headersMs'],
      message: 'at most HTTP_REQUEST_TIMEOUT_SECONDS',
    });
  }
  if (settings.mail.smtpUrl && !settings.digest.linkSecret) {
    context.issues.push({
      code: 'custom',
      input: settings.digest.linkSecret,
      path: ['digest', 'linkSecret'],
      message: 'required with SMTP_URL (at least 32 random characters)',
    });
  }
  return {
    ...settings,
    demoData: settings.demoData ?? settings.databaseUrl === undefined,
    digest: { ...settings.digest, linkSecret: settings.digest.linkSecret ?? DEVELOPMENT_DIGEST_LINK_SECRET },
  };
});

export type AppConfig = z.infer<typeof configSchema>;
export type TrendingSettings = AppConfig['trending'];
export type RecommendationSettings = AppConfig['recommendations'];

export interface Setting {
  /** Where it sits in the config, e.g. ['trending', 'prior']. */
  path: string[];
  /** The environment variable it is read from. */
  variable: string;
  schema: z.ZodType;
}

function settingsIn(schema: z.ZodObject, path: string[] = []): Setting[] {
  return Object.entries(schema.shape).flatMap(([key, child]): Setting[] => {
    const variable = environment.get(child)?.variable;
    if (variable) return [{ path: [...path, key], variable, schema: child }];
    if (child instanceof z.ZodObject) return settingsIn(child, [...path, key]);
    throw new Error(`The setting ${[...path, key].join('.')} names no environment variable`);
  });
}

/** Every setting, in the schema's order. */
export const SETTINGS: readonly Setting[] = settingsIn(settingsSchema);

/** Reads the configuration from the environment; a bad value stops the process with a message naming it. */
export function loadConfig(environmentVariables: NodeJS.ProcessEnv = process.env): AppConfig {
  const input: Record<string, unknown> = {};
  for (const { path, variable } of SETTINGS) {
    let group = input;
    for (const key of path.slice(0, -1)) {
      group[key] ??= {};
      group = group[key] as Record<string, unknown>;
    }
    group[path.at(-1)!] = environmentVariables[variable];
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const variableAt = (path: PropertyKey[]) => SETTINGS.find((setting) => setting.path.join('.') === path.join('.'))?.variable ?? path.join('.');
    const problems = parsed.error.issues.map((issue) => `${variableAt(issue.path)}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}
