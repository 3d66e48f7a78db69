import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { voteRequest, type HttpRequestSpec } from './load-clients';

/**
 * The steady background traffic of `npm run bench`'s mixed runs: upvotes at
 * a fixed rate from many voters (open loop: sent on schedule whatever the
 * answers' latency), sign-ins at their own rate, and vote-to-visible probes:
 * after an accepted upvote on a paper of the trending page, the time until
 * each watched server's anonymous trending page shows its count, read by a
 * reader already on the site (a kept-alive connection of its own, opened
 * before the votes start).
 */
export interface Answer {
  status: number;
  body: string;
}

const sharedAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request over a keep-alive pool (lighter than fetch at a few hundred requests a second). */
export function send(base: string, spec: HttpRequestSpec, agent: Agent = sharedAgent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(`${base}${spec.path}`, { method: spec.method, headers: spec.headers, agent }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(spec.body);
  });
}

/** What a trending page shows of each paper, by arXiv id. */
export type PageReader = (body: string) => Map<string, { upvotes: number; viewerHasUpvoted?: boolean }>;

export interface ProbeOptions {
  /** Every n-th vote of the stream goes to a paper of the trending page and is timed. */
  everyNth: number;
  /** The trending page's papers at the start of the run. */
  topPapers: readonly { id: number; arxivId: string }[];
  /** Servers whose anonymous trending page is polled, by name. */
  watch: readonly { name: string; base: string }[];
  anonymousPage: HttpRequestSpec;
  signedInPage: (token: string) => HttpRequestSpec;
  readPage: PageReader;
  /** Every n-th probe, the voter reads the page signed in right after the vote: it must show the vote. */
  voterCheckEveryNth: number;
  timeoutMs: number;
}

export interface VoteStreamOptions {
  base: string;
  target: 'api' | 'bare';
  votesPerSecond: number;
  voters: readonly { id: number; token: string }[];
  paperCount: number;
  /** Shared by every stream of a bench run, so no (voter, paper) pair repeats across runs. */
  counter: { next: number };
  /** (voter id, paper id) pairs of accepted votes, to compare with the rows stored. */
  acceptedPairs: Set<string>;
  signIns?: { perSecond: number; request: (i: number) => HttpRequestSpec };
  probes?: ProbeOptions;
}

export interface VoteStreamResult {
  target: 'api' | 'bare';
  sent: number;
  accepted: number;
  failed: number;
  /** Votes due while too many were in flight: not sent. */
  skipped: number;
  /** ms from sending each accepted vote to its answer (a new connection waits to be accepted by a busy server). */
  voteMs: number[];
  signIns: { sent: number; accepted: number };
  /** Per watched server: ms from each accepted probe vote to the first page showing it. */
  visible: Record<string, number[]>;
  /** Per watched server, in the order of `visible`: ms the read of that page took (a slow read, or a late refresh?). */
  showingRead: Record<string, number[]>;
  /** Per watched server: probes not shown within the timeout. */
  notSeen: Record<string, number>;
  voterChecks: { checked: number; sawOwnVote: number };
  /** The longest the bench process's own event loop was late, in ms: a slow read may be the client's, not the server's. */
  clientLoopDelayMaxMs: number;
  /** The first few failed answers (votes and sign-ins), to print. */
  failures: string[];
}

const MAX_IN_FLIGHT = 256;
const TICK_MS = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the stream once every watched server's reader has its connection (one read each). */
export async function startVoteStream(options: VoteStreamOptions): Promise<{ stop(): Promise<VoteStreamResult> }> {
  const result: VoteStreamResult = {
    target: options.target,
    sent: 0,
    accepted: 0,
    failed: 0,
    skipped: 0,
    voteMs: [],
    signIns: { sent: 0, accepted: 0 },
    visible: {},
    showingRead: {},
    notSeen: {},
    voterChecks: { checked: 0, sawOwnVote: 0 },
    clientLoopDelayMaxMs: 0,
    failures: [],
  };
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const noteFailure = (what: string, detail: unknown) => {
    if (result.failures.length < 3) result.failures.push(`${what}: ${String(detail).slice(0, 200)}`);
  };
  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  let running = true;
  // Its own connections, closed at the end: none sits idle between runs until a server drops it mid-request.
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT + 16 });
  // The readers' own: one connection per watched server, never handed to a voter (a reader's browser keeps its
  // connection; one new per read would time how soon a busy server accepts connections, not when the page shows a vote).
  const readerAgent = new Agent({ keepAlive: true, maxSockets: 1 });

  // Probes waiting to be seen, per watched server.
  interface Probe {
    arxivId: string;
    upvotes: number;
    acceptedAt: number;
  }
  const probes = options.probes;
  const waiting = new Map<string, Probe[]>();
  for (const { name } of probes?.watch ?? []) {
    waiting.set(name, []);
    result.visible[name] = [];
    result.showingRead[name] = [];
    result.notSeen[name] = 0;
  }
  let probeCount = 0;

  const vote = async (i: number) => {
    const voter = options.voters[i % options.voters.length]!;
    const probe = probes && i % probes.everyNth === 0 ? probes.topPapers[Math.floor(i / probes.everyNth) % probes.topPapers.length] : undefined;
    const paperId = probe ? probe.id : 1 + (i % options.paperCount);
    try {
      const sentAt = performance.now();
      const answer = await send(options.base, voteRequest(options.target, voter.token, paperId), agent);
      const upvotes = answer.status === 200 && !answer.body.includes('"error') ? (/"upvotes":(\d+)/.exec(answer.body)?.[1] ?? undefined) : undefined;
      if (upvotes === undefined) {
        result.failed += 1;
        noteFailure('vote', `${answer.status} ${answer.body}`);
        return;
      }
      result.accepted += 1;
      result.voteMs.push(performance.now() - sentAt);
      options.acceptedPairs.add(`${voter.id}:${paperId}`);
      if (!probe || !probes) return;
      const acceptedAt = performance.now();
      for (const list of waiting.values()) list.push({ arxivId: probe.arxivId, upvotes: Number(upvotes), acceptedAt });
      probeCount += 1;
      if (probeCount % probes.voterCheckEveryNth === 0) {
        const own = probes.readPage((await send(options.base, probes.signedInPage(voter.token), agent)).body).get(probe.arxivId);
        result.voterChecks.checked += 1;
        if (own?.viewerHasUpvoted && own.upvotes >= Number(upvotes)) result.voterChecks.sawOwnVote += 1;
      }
    } catch (error) {
      result.failed += 1;
      noteFailure('vote', error);
    }
  };

  const signIn = async (i: number) => {
    try {
      const answer = await send(options.base, options.signIns!.request(i), agent);
      if (answer.status === 200 && answer.body.includes('"token":"')) result.signIns.accepted += 1;
      else noteFailure('sign-in', `${answer.status} ${answer.body}`);
    } catch (error) {
      noteFailure('sign-in', error);
    }
  };

  await Promise.all((probes?.watch ?? []).map(({ base }) => send(base, probes!.anonymousPage, readerAgent)));
  const startedAt = performance.now();
  let signInsSent = 0;
  const scheduler = setInterval(() => {
    const elapsed = (performance.now() - startedAt) / 1000;
    while (result.sent + result.skipped < Math.floor(elapsed * options.votesPerSecond)) {
      if (inFlight.size >= MAX_IN_FLIGHT) {
        result.skipped += 1;
        continue;
      }
      result.sent += 1;
      track(vote(options.counter.next++));
    }
    const signIns = options.signIns;
    while (signIns && signInsSent < Math.floor(elapsed * signIns.perSecond)) {
      result.signIns.sent += 1;
      track(signIn(signInsSent++));
    }
  }, TICK_MS);

  // One poller per watched server: reads the anonymous page back to back while a probe waits.
  const pollers = (probes?.watch ?? []).map(async ({ name, base }) => {
    const list = waiting.get(name)!;
    while (running || list.length > 0 || inFlight.size > 0) {
      if (list.length === 0) {
        await sleep(TICK_MS);
        continue;
      }
      let shown: ReturnType<PageReader>;
      const readStartedAt = performance.now();
      try {
        shown = probes!.readPage((await send(base, probes!.anonymousPage, readerAgent)).body);
      } catch {
        await sleep(TICK_MS);
        continue;
      }
      const seenAt = performance.now();
      for (let index = list.length - 1; index >= 0; index -= 1) {
        const probe = list[index]!;
        const upvotes = shown.get(probe.arxivId)?.upvotes;
        if (upvotes !== undefined && upvotes >= probe.upvotes) {
          result.visible[name]!.push(seenAt - probe.acceptedAt);
          result.showingRead[name]!.push(seenAt - readStartedAt);
          list.splice(index, 1);
        } else if (seenAt - probe.acceptedAt > probes!.timeoutMs) {
          result.notSeen[name]! += 1;
          list.splice(index, 1);
        }
      }
    }
  });

  return {
    async stop() {
      clearInterval(scheduler);
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      running = false;
      await Promise.all(pollers);
      agent.destroy();
      readerAgent.destroy();
      loopDelay.disable();
      result.clientLoopDelayMaxMs = loopDelay.max / 1e6;
      return result;
    },
  };
}
