import { useResponseCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import { encodeBase64 } from '@pothos/core';
import { hash, randomUUID } from 'node:crypto';
import {
  getNamedType,
  getOperationAST,
  isListType,
  isNonNullType,
  isObjectType,
  type ExecutionResult,
  type GraphQLOutputType,
  type GraphQLSchema,
  parse,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Plugin } from 'graphql-yoga';
import type { ChangedEntity, PublicDataChange, PublicDataChanges } from '../cache/public-data-changes';

export interface ResponseCacheSettings {
  /** Longest a cached response is served, in ms; 0 turns the cache off. */
  ttlMs: number;
  /** Longest an answer holding a list of papers is served, in ms: what a vote may leave stale. */
  listMaxAgeMs: number;
  maxEntries: number;
  /** Bytes of JSON all cached answers may hold together. */
  maxBytes: number;
  /** An answer larger than this is never cached. */
  maxEntryBytes: number;
}

/** What a GraphQL answer was computed from: enough to compute it again. */
export interface AnswerRequest {
  query: string;
  operationName?: string | null;
  variables?: unknown;
}

interface Entry {
  /** The GraphQL result, for the plugin; absent for a REST answer, which is only ever sent as bytes. */
  result?: ExecutionResult;
  /** The answer as sent (JSON, without the plugin's http extension): a hit sends these bytes as they are. */
  body: Uint8Array<ArrayBuffer>;
  etag: string;
  lastModified: string;
  /** Lives at most `listMaxAgeMs`: a vote leaves it to end by itself. */
  short: boolean;
  /** The entities it shows (`Type:globalId`), and the types it found missing or empty (`Type`). */
  entityKeys: string[];
  /** When it was stored, and last sent to a reader (`now()` ms). */
  storedAt: number;
  readAt: number;
  /** The request it answers, so a short answer can be computed again in the background; absent for REST. */
  request?: AnswerRequest;
}

/** A key whose answer is being computed again in the background, or waits to be. */
interface Refresh {
  running: boolean;
  /** A change arrived while it ran: run once more when it ends. */
  again: boolean;
  timer?: ReturnType<typeof setTimeout>;
  lastStartedAt: number;
  /** The store's change sequence when the running one began. */
  startedSequence: number;
  /** The request the running one computes. */
  request?: AnswerRequest;
}

/** Refreshes running at once in one process, at most: each is a GraphQL execution like a reader's. */
const MAX_RUNNING_REFRESHES = 4;

const utf8 = new TextEncoder();

/** How many changed entities are remembered to keep an answer computed before the change out of the cache. */
const REMEMBERED_CHANGES = 100_000;
/** How many bytes of query text and variables the requests of answers being computed may hold together. */
const REMEMBERED_REQUEST_BYTES = 16_000_000;

/**
 * The store behind the response cache, shared by /graphql and the REST paths:
 * answers by key, indexed by the entities they show, so a change ends only
 * the answers that show what changed. An answer whose computation started
 * before a change to one of its entities is not stored (it may hold the old
 * data). Listens to `changes` from its creation.
 *
 * A short answer (a list of papers) that readers are reading is computed
 * again in the background, by a request of this process to itself, when a
 * vote touches one of its papers or when it is half its `listMaxAgeMs` old;
 * readers keep getting the answer they have until the new one is stored, so
 * neither votes nor age send a crowd of readers to Postgres at once, and a
 * vote shows within about a quarter of `listMaxAgeMs` (one key is computed
 * again at most that often) plus the time to compute it. A query with no
 * answer stored is computed the same way for its readers (computeFor).
 */
export class AnswerStore {
  private readonly processPrefix = randomUUID().slice(0, 8);
  private versions = 0;
  /** Advances with every change heard. */
  private sequence = 0;
  private everythingAt = 0;
  /** The sequence of the last change to an entity, and of the last vote on a paper. */
  private readonly changedAt = this.changeLog();
  private readonly votedAt = this.changeLog();
  /** Changes older than this may have been forgotten by the logs above. */
  private forgottenUpTo = 0;
  /** The sequence at which the computation of an answer not yet stored began. */
  private readonly startedAt = new LRUCache<string, number>({ max: REMEMBERED_CHANGES });
  /** The request behind each answer being computed (from started() to set()). */
  // Bounded in bytes too: a request that never stores an answer (refused, failed) leaves its text here until
  // pushed out, and a query may be as long as the body limit.
  private readonly requestOf = new LRUCache<string, AnswerRequest>({ max: REMEMBERED_CHANGES, maxSize: REMEMBERED_REQUEST_BYTES });
  private readonly byEntity = new Map<string, Set<string>>();
  private readonly entries: LRUCache<string, Entry>;
  private readonly refreshes = new Map<string, Refresh>();
  private readonly runningRefreshes = new Set<Promise<void>>();
  /** The refresh running for each key: a reader who finds the answer ended meanwhile waits for it. */
  private readonly refreshOf = new Map<string, Promise<void>>();
  private refresh?: (request: AnswerRequest) => Promise<unknown>;
  /** Keys whose computation for a reader (computeFor) stored no answer lately. */
  private readonly storedNothing = new LRUCache<string, true>({ max: 10_000, ttl: 60_000 });
  /** Sent by this process's own refresh requests, so that a hit is not served to them; unguessable. */
  readonly refreshToken = randomUUID();

  constructor(
    settings: ResponseCacheSettings,
    changes: PublicDataChanges,
    private readonly now: () => number = Date.now,
  ) {
    this.listMaxAgeMs = settings.listMaxAgeMs;
    changes.subscribe((change) => this.end(change));
    this.entries = new LRUCache<string, Entry>({
      max: settings.maxEntries,
      maxSize: settings.maxBytes,
      maxEntrySize: settings.maxEntryBytes,
      sizeCalculation: (entry) => entry.body.byteLength,
      dispose: (entry, key, reason) => {
        this.unindex(key, entry);
        // Replaced (by a refresh, say): the key's refresh state stays with it.
        if (reason !== 'set') this.forgetRefresh(key);
      },
    });
  }

  private readonly listMaxAgeMs: number;

  private get refreshIntervalMs() {
    return this.listMaxAgeMs / 4;
  }

  /** Whether `request` is one of this process's own refresh requests (see refreshWith). */
  isRefresh(request: Request): boolean {
    return request.headers.get(REFRESH_HEADER) === this.refreshToken;
  }

  /** How a short answer is computed again: a request to this process's own GraphQL endpoint. */
  refreshWith(refresh: (request: AnswerRequest) => Promise<unknown>) {
    this.refresh = refresh;
  }

  /** Starts no more refreshes, and waits for those running (the app is closing). */
  async stopRefreshing() {
    this.refresh = undefined;
    for (const key of [...this.refreshes.keys()]) this.forgetRefresh(key);
    await Promise.all(this.runningRefreshes);
  }

  private changeLog() {
    return new LRUCache<string, number>({
      max: REMEMBERED_CHANGES,
      dispose: (sequence, _key, reason) => {
        if (reason === 'evict') this.forgottenUpTo = Math.max(this.forgottenUpTo, sequence);
      },
    });
  }

  /** The stored answer under `key`, for the GraphQL pipeline: none while it is being computed again. */
  get(key: string): Entry | undefined {
    return this.refreshes.get(key)?.running ? undefined : this.entries.get(key);
  }

  /**
   * The refresh of `key` running now, if any: under load a refresh can outlast the answer it replaces, and a
   * reader who then computed the answer again would wait behind every other request for Postgres.
   */
  runningRefresh(key: string): Promise<void> | undefined {
    return this.refreshOf.get(key);
  }

  /** The stored answer under `key`, to send to a reader as it is. */
  read(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = this.now();
    entry.readAt = now;
    if (entry.short && now - entry.storedAt >= this.listMaxAgeMs / 2) this.scheduleRefresh(key, 'age');
    return entry;
  }

  /**
   * Notes that the answer under `key` is being computed now (the oldest such computation counts), and
   * from what request (kept with the answer so that it can be computed again).
   */
  started(key: string, request?: AnswerRequest, requestBytes = 1) {
    if (!this.startedAt.has(key)) this.startedAt.set(key, this.sequence);
    if (request) this.requestOf.set(key, request, { size: Math.max(1, requestBytes) });
  }

  set(key: string, result: ExecutionResult, entities: Iterable<{ typename: string; id?: number | string }>, ttl: number) {
    // A reader computing the same answer at the same time may have stored first (and taken the start with it):
    // a refresh still knows when it began, and its answer, begun after the change that asked for it, replaces theirs.
    const refresh = this.refreshes.get(key);
    const started = this.startedAt.get(key) ?? (refresh?.running ? refresh.startedSequence : undefined);
    // The reader's set took the request noted by both: the refresh still knows its own, and an answer stored
    // without one could never be computed again (every reader would compute it once it ends).
    const request = this.requestOf.get(key) ?? (refresh?.running ? refresh.request : undefined);
    this.startedAt.delete(key);
    this.requestOf.delete(key);
    // The plugin's ETag is the key, the same for every version of the answer: each stored answer gets its own.
    this.versions += 1;
    const etag = `"${this.processPrefix}-${this.versions}"`;
    const headers = result.extensions?.http as { headers?: Record<string, string> } | undefined;
    if (headers?.headers) headers.headers.ETag = etag;
    const entityKeys = [...entities].map(({ typename, id }) => (id === undefined ? typename : `${typename}:${id}`));
    const short = ttl <= this.listMaxAgeMs;
    if (started === undefined || started < Math.max(this.everythingAt, this.forgottenUpTo)) return;
    const changedSince = (log: LRUCache<string, number>) => entityKeys.some((entityKey) => (log.get(entityKey) ?? -1) > started);
    // A vote leaves a short answer to end by itself: so too one that read the data before the vote.
    if (changedSince(this.changedAt) || (!short && changedSince(this.votedAt))) return;
    const { http: _http, ...extensions } = result.extensions ?? {};
    const sent = Object.keys(extensions).length > 0 ? { ...result, extensions } : { data: result.data };
    const entry: Entry = {
      result,
      body: utf8.encode(JSON.stringify(sent)),
      etag,
      lastModified: headers?.headers?.['Last-Modified'] ?? new Date(this.now()).toUTCString(),
      short,
      entityKeys,
      storedAt: this.now(),
      readAt: 0,
      request,
    };
    this.entries.set(key, entry, { ttl });
    if (this.entries.get(key) !== entry) return; // Too large to store.
    for (const entityKey of entityKeys) {
      const keys = this.byEntity.get(entityKey) ?? new Set<string>();
      keys.add(key);
      this.byEntity.set(entityKey, keys);
    }
  }

  /**
   * Stores a REST answer's bytes under `key` for `listMaxAgeMs`: it names no entities, so only that
   * bound (or a change to everything) ends it. Not stored when everything changed since it was begun.
   */
  setBody(key: string, body: string) {
    const started = this.startedAt.get(key);
    this.startedAt.delete(key);
    if (started === undefined || started < Math.max(this.everythingAt, this.forgottenUpTo)) return;
    this.versions += 1;
    const entry: Entry = {
      body: utf8.encode(body),
      etag: `"${this.processPrefix}-${this.versions}"`,
      lastModified: new Date(this.now()).toUTCString(),
      short: true,
      entityKeys: [],
      storedAt: this.now(),
      readAt: 0,
    };
    this.entries.set(key, entry, { ttl: this.listMaxAgeMs });
  }

  /** Ends the answers a change may have made stale. */
  end(change: PublicDataChange) {
    if (change.kind === 'sessions-ended') return;
    this.sequence += 1;
    if (change.kind === 'everything') {
      this.everythingAt = this.sequence;
      this.entries.clear();
      return;
    }
    const votes = change.kind === 'votes';
    const entityKeys = votes ? change.paperIds.map((id) => entityKeyOf({ typename: 'Paper', id })) : change.entities.map(entityKeyOf);
    for (const entityKey of entityKeys) {
      (votes ? this.votedAt : this.changedAt).set(entityKey, this.sequence);
      for (const key of [...(this.byEntity.get(entityKey) ?? [])]) {
        const entry = this.entries.peek(key);
        if (!votes || !entry?.short) this.entries.delete(key);
        // A vote: computed again if readers are reading it; otherwise it ends by itself.
        else if (this.now() - entry.readAt < this.listMaxAgeMs) this.scheduleRefresh(key, 'vote');
      }
    }
  }

  /**
   * Computes the answer under `key` again in the background: one run per key at a time, starts at least
   * refreshIntervalMs apart. A vote during a run asks for one more (the run may have read the data before it).
   */
  private scheduleRefresh(key: string, cause: 'age' | 'vote') {
    if (!this.refresh || !this.entries.peek(key)?.request) return;
    let refresh = this.refreshes.get(key);
    if (!refresh) {
      refresh = { running: false, again: false, lastStartedAt: Number.NEGATIVE_INFINITY, startedSequence: 0 };
      this.refreshes.set(key, refresh);
    }
    if (refresh.running) {
      if (cause === 'vote') refresh.again = true;
      return;
    }
    if (refresh.timer) return;
    const delay = Math.max(0, refresh.lastStartedAt + this.refreshIntervalMs - this.now());
    refresh.timer = setTimeout(() => void this.runRefresh(key), delay);
    refresh.timer.unref?.();
  }

  private async runRefresh(key: string) {
    const refresh = this.refreshes.get(key);
    const request = this.entries.peek(key)?.request;
    if (!refresh || !request || !this.refresh) return;
    refresh.timer = undefined;
    if (this.runningRefreshes.size >= MAX_RUNNING_REFRESHES) {
      // Busy: try again after an interval; the answer still ends at its age.
      refresh.lastStartedAt = this.now();
      this.scheduleRefresh(key, 'age');
      return;
    }
    refresh.lastStartedAt = this.now();
    await this.compute(key, refresh, request);
    // Unless forgotten meanwhile (the answer ended, or the app is closing).
    if (this.refreshes.get(key) === refresh && refresh.again) this.scheduleRefresh(key, 'vote');
  }

  /**
   * Computes the answer to the query `request` under `key` for a reader who found none stored and none being
   * computed (the first reader of a page, or of one nobody read for a while), the way a refresh does it: on the
   * refresh connections, so that it does not wait behind every other reader's statements for Postgres. Resolves
   * once the answer is stored, or was not (the reader then computes it as usual). Undefined when refreshes are
   * off or all but one slot is busy, or when such a computation of `key` stored nothing lately (an answer with errors, say: it would
   * be computed twice for every reader).
   */
  computeFor(key: string, request: AnswerRequest): Promise<void> | undefined {
    const running = this.refreshOf.get(key);
    if (running) return running;
    // Never the last slot: distinct cold queries (a crawler's, say) must not hold back the refreshes of pages readers read.
    if (!this.refresh || this.runningRefreshes.size >= MAX_RUNNING_REFRESHES - 1 || this.storedNothing.has(key)) return undefined;
    let refresh = this.refreshes.get(key);
    if (!refresh) {
      refresh = { running: false, again: false, lastStartedAt: Number.NEGATIVE_INFINITY, startedSequence: 0 };
      this.refreshes.set(key, refresh);
    }
    clearTimeout(refresh.timer);
    refresh.timer = undefined;
    const computed = refresh;
    return this.compute(key, computed, request).then(() => {
      if (this.entries.has(key)) return;
      this.storedNothing.set(key, true);
      if (this.refreshes.get(key) === computed) this.forgetRefresh(key);
    });
  }

  /**
   * Runs `request` as a refresh of `key`: one at a time per key, at most MAX_RUNNING_REFRESHES in all (the
   * callers check). A computation for a reader does not count as a start: a vote after it is shown at once.
   */
  private async compute(key: string, refresh: Refresh, request: AnswerRequest) {
    const compute = this.refresh;
    if (!compute) return;
    refresh.running = true;
    refresh.again = false;
    refresh.startedSequence = this.sequence;
    refresh.request = request;
    const running = compute(request).then(
      () => {},
      // Postgres unreachable, say: the answer ends at its age and the next reader computes it.
      () => {},
    );
    this.runningRefreshes.add(running);
    this.refreshOf.set(key, running);
    await running;
    this.runningRefreshes.delete(running);
    if (this.refreshOf.get(key) === running) this.refreshOf.delete(key);
    refresh.running = false;
  }

  private forgetRefresh(key: string) {
    const refresh = this.refreshes.get(key);
    if (!refresh) return;
    clearTimeout(refresh.timer);
    this.refreshes.delete(key);
  }

  private unindex(key: string, entry: Entry) {
    for (const entityKey of entry.entityKeys) {
      const keys = this.byEntity.get(entityKey);
      keys?.delete(key);
      if (keys?.size === 0) this.byEntity.delete(entityKey);
    }
  }
}

/** The answer store, or null when the settings turn the cache off. */
export function createAnswerStore(settings: ResponseCacheSettings, changes: PublicDataChanges): AnswerStore | null {
  return settings.ttlMs === 0 ? null : new AnswerStore(settings, changes);
}

/** The key under which the response cache plugin lists an entity: its type and global ID, or the type alone. */
function entityKeyOf({ typename, id }: ChangedEntity) {
  return id === undefined ? typename : `${typename}:${encodeBase64(`${typename}:${id}`)}`;
}

/**
 * The cache key of a request: the same for the same operation and variables,
 * however they came (GET or POST). Hashed: the plugin sends it as a header.
 */
function cacheKeyOf(query: string, operationName: string | null | undefined, variablesJson: string) {
  return hash('sha1', `${operationName ?? ''}\u0000${variablesJson}\u0000${query}`, 'base64url');
}

/**
 * Caches the answers to anonymous queries: what everyone sees (the trending
 * page, a day's papers, a paper) is computed once, not once per reader.
 * A signed-in request is never cached nor served from the cache, nor is one
 * that asks for a fresh answer with Cache-Control: no-cache (or no-store).
 *
 * A change ends only the answers that show what changed: the plugin lists
 * the entities (type and id) of every answer it stores, and an announced
 * change ends the answers listing one of them (in every process, through
 * Redis). An answer that holds a list of papers lives at most
 * `listMaxAgeMs` (the plugin's TTL per schema coordinate): a vote, which may
 * reorder any such list, leaves it to end by itself, so heavy voting cannot
 * send every reader to Postgres; answers without one end at the vote.
 * A hit is sent as the bytes stored, before the GraphQL pipeline runs
 * (`servedFromCache`; the HTTP listener sends most hits itself, see
 * ListenerHits); the TTL bounds what a missed announcement (Redis down
 * between processes) can leave stale.
 *
 * The cache holds at most `maxEntries` answers and `maxBytes` of them (as
 * JSON), the least recently used leaving first; an answer over
 * `maxEntryBytes` is never stored.
 */
export function responseCache(store: AnswerStore | null, settings: ResponseCacheSettings, schema: GraphQLSchema): Plugin[] {
  if (!store) return [];
  const cache: Cache = {
    get: (key) => store.get(key)?.result,
    set: (key, result, entities, ttl) => store.set(key, result, entities, ttl),
    // Called with what a mutation's answer shows, which need not have changed (a repeated upvote): the resolvers
    // announce what they changed instead.
    invalidate: () => {},
  };
  const listTtls =
    settings.listMaxAgeMs < settings.ttlMs ? Object.fromEntries(paperListFields(schema).map((coordinate) => [coordinate, settings.listMaxAgeMs])) : {};
  return [
    servedFromCache(store),
    useResponseCache({
      cache,
      ttl: settings.ttlMs,
      ttlPerSchemaCoordinate: listTtls,
      session: () => null,
      enabled: (request) => isCacheable(request),
      // The plugin asks for a key before it asks whether to cache: spare the other requests the hashing.
      buildResponseCacheKey: async ({ request, documentString, operationName, variableValues }) => {
        if (!isCacheable(request)) return 'not cached';
        const variablesJson = JSON.stringify(variableValues ?? {});
        const key = cacheKeyOf(documentString, operationName, variablesJson);
        store.started(key, { query: documentString, operationName, variables: variableValues }, documentString.length + variablesJson.length);
        return key;
      },
      // On: with it off the plugin caches a mutation's answer like a query's (a repeat of an anonymous
      // logIn could be answered without running).
      invalidateViaMutation: true,
    }),
  ];
}

/** Anonymous, and not asking for a fresh answer (Cache-Control: no-cache or no-store, as a browser's reload sends). */
export const isCacheable = (request: Request) => cacheableWith((name) => request.headers.get(name));

const cacheableWith = (headerOf: (name: string) => string | null | undefined) =>
  headerOf('authorization') == null && !/no-cache|no-store/i.test(headerOf('cache-control') ?? '');

/** How the listener may find a request's cached answer: from its URL (a GET), from its body (a POST), or not at all. */
export type ListenerLookup = 'url' | 'body' | undefined;

/** A request as the HTTP listener has it: method, path with query, headers (names in lower case). */
export interface ListenerRequest {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Cached answers for the HTTP listener to send before a request becomes a
 * fetch Request and before yoga's plugins run, so that a hit costs little
 * more than sending its bytes. It takes a subset of what the app would
 * answer from the cache: anonymous and cacheable requests to the GraphQL
 * endpoint, a GET sending yoga's CSRF header or a POST of JSON (which no
 * CSRF check refuses) with a declared length within the body limit and no
 * content encoding. Everything else, and every miss, goes to the app, which
 * answers as it always does.
 */
export class ListenerHits {
  constructor(
    private readonly store: AnswerStore,
    readonly endpoint: string,
    private readonly maxBodyBytes: number,
  ) {}

  lookupOf({ method, url = '', headers }: ListenerRequest): ListenerLookup {
    const queryAt = url.indexOf('?');
    if ((queryAt === -1 ? url : url.slice(0, queryAt)) !== this.endpoint) return undefined;
    const headerOf = (name: string) => single(headers[name]);
    if (!cacheableWith(headerOf) || headerOf(REFRESH_HEADER) !== undefined) return undefined;
    if (method === 'GET') return headerOf('x-graphql-yoga-csrf') !== undefined ? 'url' : undefined;
    if (method !== 'POST' || !headerOf('content-type')?.toLowerCase().startsWith('application/json')) return undefined;
    if (headerOf('content-encoding') !== undefined || headerOf('transfer-encoding') !== undefined) return undefined;
    const length = Number(headerOf('content-length'));
    return length > 0 && length <= this.maxBodyBytes ? 'body' : undefined;
  }

  /** The cached answer to a request lookupOf() took (a POST with its body), or undefined for a miss. */
  answer({ url = '', headers }: ListenerRequest, body?: Buffer): StoredAnswer | undefined {
    let key: string | undefined;
    if (body === undefined) {
      const params = new URLSearchParams(url.slice(url.indexOf('?') + 1));
      const query = params.get('query');
      key = query ? keyedRequestOf(query, params.get('operationName'), () => params.get('variables') ?? undefined)?.key : undefined;
    } else {
      let params: unknown;
      try {
        params = JSON.parse(body.toString('utf8'));
      } catch {
        return undefined;
      }
      if (!isPlainObject(params) || typeof params.query !== 'string') return undefined;
      key = keyedRequestOf(params.query, params.operationName as string | undefined, () => params.variables)?.key;
    }
    return storedAnswer(this.store, key, single(headers.accept) ?? null, single(headers['if-none-match']) ?? null);
  }
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(', ') : value);

/**
 * Answers a cached query before the GraphQL pipeline runs: after the checks
 * of every request (CORS, CSRF, body size: onRequest), before parsing,
 * validation and execution. The key is the one the cache stores under; a
 * matching If-None-Match gets a 304. A miss goes on as usual.
 */
function servedFromCache(store: AnswerStore): Plugin {
  return {
    onYogaInit({ yoga }) {
      store.refreshWith(async (answerRequest) => {
        const request = new yoga.fetchAPI.Request(`http://${REFRESH_HOST}${yoga.graphqlEndpoint}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', [REFRESH_HEADER]: store.refreshToken },
          body: JSON.stringify(answerRequest),
        });
        // Work a plugin leaves to finish after the answer (none of ours does) is not waited for.
        const response = await yoga.handle(request, { waitUntil: (work) => void Promise.resolve(work).catch(() => {}) });
        await response.arrayBuffer();
      });
    },
    onDispose: () => store.stopRefreshing(),
    onRequestParse({ request, url, requestParser, setRequestParser, endResponse, fetchAPI }) {
      if (!isCacheable(request) || store.isRefresh(request)) return;
      /** The cached answer to `key` as this request accepts it, if there is one. */
      const cachedResponse = (key: string | undefined) => {
        const answer = storedAnswer(store, key, request.headers.get('accept'), request.headers.get('if-none-match'));
        return answer && new fetchAPI.Response(answer.body, answer);
      };
      /**
       * The cached answer; or, when none is stored, the one a refresh running now stores (it ended during the
       * refresh) or else one computed for this reader as a refresh is (AnswerStore.computeFor), once stored.
       */
      const cachedOrComputed = (found: KeyedRequest | undefined): Response | Promise<Response | undefined> | undefined => {
        const response = cachedResponse(found?.key);
        if (response || !found) return response;
        const computing = store.runningRefresh(found.key) ?? (isQuery(found.request) ? store.computeFor(found.key, found.request) : undefined);
        return computing?.then(() => cachedResponse(found.key));
      };
      if (request.method === 'GET') {
        const query = url.searchParams.get('query');
        const answer = query
          ? cachedOrComputed(keyedRequestOf(query, url.searchParams.get('operationName'), () => url.searchParams.get('variables') ?? undefined))
          : undefined;
        if (answer instanceof Promise) {
          return answer.then((response) => {
            if (response) endResponse(response);
          });
        }
        if (answer) endResponse(answer);
        return;
      }
      const parseJson = requestParser;
      if (request.method !== 'POST' || !parseJson || !request.headers.get('content-type')?.includes('application/json')) return;
      // A parser, so that yoga's body size limit, which wraps the parser chosen, still counts the body it reads.
      setRequestParser(async (limitedRequest) => {
        const text = await limitedRequest.text();
        let params: unknown;
        try {
          params = JSON.parse(text);
        } catch {
          params = undefined;
        }
        if (!isPlainObject(params)) {
          // Not an object: the usual parser answers, from the body read here.
          return parseJson(new fetchAPI.Request(request.url, { method: 'POST', headers: request.headers, body: text }));
        }
        const { query, operationName, variables } = params;
        const found = typeof query === 'string' ? keyedRequestOf(query, operationName as string | undefined, () => variables) : undefined;
        return (await cachedOrComputed(found)) ?? params;
      });
    },
  };
}

/** A stored answer as sent: its status (200, or 304 to a reader whose copy is current), headers and bytes. */
export interface StoredAnswer {
  status: 200 | 304;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer> | null;
}

/** The answer stored under `key` as a request sending these Accept and If-None-Match headers takes it; undefined for none. */
function storedAnswer(store: AnswerStore, key: string | undefined, accept: string | null, ifNoneMatch: string | null): StoredAnswer | undefined {
  const entry = key === undefined ? undefined : store.read(key);
  const mediaType = entry && regularMediaType(accept);
  if (!entry || !mediaType) return undefined;
  const headers = { etag: entry.etag, 'last-modified': entry.lastModified };
  if (matchesETag(ifNoneMatch, entry.etag)) return { status: 304, headers, body: null };
  return { status: 200, headers: { ...headers, 'content-type': `${mediaType}; charset=utf-8` }, body: entry.body };
}

/** The header of a refresh request (AnswerStore), and the host it names: the process itself. */
const REFRESH_HEADER = 'x-answer-refresh';
const REFRESH_HOST = 'answer-refresh.internal';

/** A request and the key its answer is cached under. */
interface KeyedRequest {
  key: string;
  request: AnswerRequest;
}

/** A query's request and cache key, its variables given as JSON text (GET) or parsed (POST); undefined when they are not JSON. */
function keyedRequestOf(query: string, operationName: string | null | undefined, variables: () => unknown): KeyedRequest | undefined {
  try {
    const value = variables();
    const parsed = (typeof value === 'string' ? JSON.parse(value) : value) ?? {};
    return { key: cacheKeyOf(query, operationName, JSON.stringify(parsed)), request: { query, operationName, variables: parsed } };
  } catch {
    return undefined;
  }
}

/** Whether the operation `request` runs is a query (never a mutation: one is never computed on a reader's behalf). */
function isQuery({ query, operationName }: AnswerRequest): boolean {
  try {
    return getOperationAST(parse(query), operationName ?? undefined)?.operation === 'query';
  } catch {
    return false;
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The media type yoga would answer a plain result with, or undefined when the
 * request accepts only another kind of answer (a stream): the first listed
 * type that a JSON answer satisfies decides, as in yoga's result processors.
 */
function regularMediaType(accept: string | null): string | undefined {
  if (!accept) return 'application/json';
  for (const listed of accept.toLowerCase().split(',')) {
    const [type = '', ...parameters] = listed.split(';').map((part) => part.trim());
    if (parameters.some((parameter) => parameter.startsWith('charset=') && parameter !== 'charset=utf-8')) continue;
    if (type === 'application/graphql-response+json') return type;
    if (type === 'application/json' || type === 'application/*' || type === '*/*') return 'application/json';
  }
  return undefined;
}

export function matchesETag(ifNoneMatch: string | null, etag: string) {
  return (ifNoneMatch ?? '').split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * The schema coordinates (Type.field) that answer a list of papers, plain or
 * as a connection: what a vote may reorder or add to.
 */
export function paperListFields(schema: GraphQLSchema): string[] {
  const holdsPapers = (type: GraphQLOutputType): boolean => {
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner)) return getNamedType(inner).name === 'Paper';
    const named = getNamedType(inner);
    const node = isObjectType(named) ? named.getFields().edges : undefined;
    const edge = node && getNamedType(node.type);
    return isObjectType(edge) && getNamedType(edge.getFields().node?.type ?? edge)?.name === 'Paper';
  };
  const coordinates: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (holdsPapers(field.type)) coordinates.push(`${type.name}.${field.name}`);
    }
  }
  return coordinates;
}
