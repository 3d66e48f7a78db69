import { enqueueInBackground, VOTERS_PER_REFRESH_JOB, type JobQueue } from '../../job-queue';
import type { Logger } from '../../logger';

/** How long the voters of one process are gathered before their refresh is handed to the queue. */
export const VOTER_FLUSH_MS = 1_000;

/**
 * The voters whose personal feeds should follow their new upvotes (and
 * dismissals), gathered per process and handed to the queue once a second as
 * `refresh-voters-recommendations` jobs of up to VOTERS_PER_REFRESH_JOB users,
 * each run `delayMs` later: a vote itself does no queue work (a BullMQ add
 * per fresh voter was most of an upvote's cost at full load), and one run
 * covers a burst of votes. A voter handed over is not handed over again for
 * half the delay: the job then still has to run and will read those votes.
 * With no delay (RECOMMENDATIONS_REFRESH_DELAY_SECONDS=0) a voter is handed
 * over at once. What waits here when the process stops is handed over by
 * flush(); a crash loses at most a second of voters, whose feeds then refresh
 * when next read stale.
 */
export class VoterRefreshes {
  private readonly waiting = new Set<number>();
  /** Voters handed over, until when the job then queued certainly runs after their new votes. */
  private readonly coveredUntil = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly jobs: JobQueue,
    private readonly logger: Logger,
    private readonly delayMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Asks for `userId`'s feed to be recomputed after this burst of their changes. */
  note(userId: number): void {
    if ((this.coveredUntil.get(userId) ?? 0) > this.now()) return;
    this.waiting.add(userId);
    // No burst to wait out: handed over at once.
    if (this.delayMs === 0) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), VOTER_FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Hands the waiting voters to the queue now (on a timer, and when the app closes); settles once handed over. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    for (const [userId, until] of this.coveredUntil) if (until <= now) this.coveredUntil.delete(userId);
    const userIds = [...this.waiting];
    this.waiting.clear();
    const votedBefore = new Date(now).toISOString();
    for (const userId of userIds) this.coveredUntil.set(userId, now + this.delayMs / 2);
    const handedOver: Promise<void>[] = [];
    for (let start = 0; start < userIds.length; start += VOTERS_PER_REFRESH_JOB) {
      const payload = { userIds: userIds.slice(start, start + VOTERS_PER_REFRESH_JOB), votedBefore };
      const options = this.delayMs > 0 ? { delayMs: this.delayMs } : undefined;
      handedOver.push(enqueueInBackground(this.jobs, this.logger, 'refresh-voters-recommendations', payload, options));
    }
    await Promise.all(handedOver);
  }
}
