import { describe, expect, it } from 'vitest';
import { PendingDelayedJobs } from '../jobs/bullmq';

describe('PendingDelayedJobs', () => {
  it('holds a job for half its delay, then lets a twin through', () => {
    let now = 1_000;
    const pending = new PendingDelayedJobs(() => now);
    expect(pending.has('a')).toBe(false);
    pending.add('a', now, 30_000);
    now += 14_999;
    expect(pending.has('a')).toBe(true);
    now += 1;
    expect(pending.has('a')).toBe(false);
    // Forgotten once past: a new add starts a new window.
    pending.add('a', now, 30_000);
    expect(pending.has('a')).toBe(true);
  });

  it('keeps each id apart and drops the ones past their window', () => {
    let now = 0;
    const pending = new PendingDelayedJobs(() => now);
    pending.add('a', now, 2_000);
    pending.add('b', now, 10_000);
    now = 1_500;
    expect(pending.has('a')).toBe(false);
    expect(pending.has('b')).toBe(true);
  });
});
