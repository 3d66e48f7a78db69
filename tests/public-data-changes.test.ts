import { afterAll, describe, expect, it } from 'vitest';
import { createPublicDataChanges, type PublicDataChange, type PublicDataChanges } from '../src/cache/public-data-changes';
import { createLogger } from '../src/logger';
import { redisTestConfig } from './support/fixtures';

const opened: PublicDataChanges[] = [];
afterAll(async () => {
  await Promise.all(opened.map((changes) => changes.close()));
});

/** A writer and a reader on one channel (Redis pub/sub), the reader's subscription up. */
async function pair() {
  const config = redisTestConfig('public-data-changes');
  const writer = createPublicDataChanges(config, createLogger('silent'));
  const reader = createPublicDataChanges(config, createLogger('silent'));
  opened.push(writer, reader);
  const heard: PublicDataChange[] = [];
  reader.subscribe((change) => heard.push(change));
  // The subscription announces "everything" when it is ready: wait for it, then start afresh.
  await expect.poll(() => heard.length, { timeout: 10_000, interval: 20 }).toBeGreaterThan(0);
  heard.length = 0;
  return { writer, heard };
}

describe('public-data changes over Redis', () => {
  it('sends the votes announced within VOTES_GATHERED_MS as one message; the writer hears each at once, and not again from Redis', async () => {
    const { writer, heard } = await pair();
    const local: PublicDataChange[] = [];
    writer.subscribe((change) => local.push(change));
    // The writer's own subscription is up (it announces "everything" when ready): it could hear its messages.
    await expect.poll(() => local.length, { timeout: 10_000, interval: 20 }).toBeGreaterThan(0);
    local.length = 0;
    const sent = [writer.announce({ kind: 'votes', paperIds: [1] }), writer.announce({ kind: 'votes', paperIds: [2, 1] })];
    expect(local.slice(0, 2)).toEqual([
      { kind: 'votes', paperIds: [1] },
      { kind: 'votes', paperIds: [2, 1] },
    ]);
    await Promise.all(sent);
    await writer.announce({ kind: 'votes', paperIds: [3] });
    await expect.poll(() => heard.length, { timeout: 10_000, interval: 20 }).toBe(2);
    expect(heard).toEqual([
      { kind: 'votes', paperIds: [1, 2] },
      { kind: 'votes', paperIds: [3] },
    ]);
    // The writer's subscription skips its own messages: nothing after the local three.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(local.filter((change) => change.kind === 'votes')).toEqual([
      { kind: 'votes', paperIds: [1] },
      { kind: 'votes', paperIds: [2, 1] },
      { kind: 'votes', paperIds: [3] },
    ]);
  });

  it('sends the votes still gathered when it closes', async () => {
    const { writer, heard } = await pair();
    void writer.announce({ kind: 'votes', paperIds: [5] });
    await writer.close();
    await expect.poll(() => heard, { timeout: 10_000, interval: 20 }).toEqual([{ kind: 'votes', paperIds: [5] }]);
  });

  it('sends other changes as they come, beside the votes', async () => {
    const { writer, heard } = await pair();
    await Promise.all([
      writer.announce({ kind: 'votes', paperIds: [4] }),
      writer.announce({ kind: 'entities', entities: [{ typename: 'Paper', id: 4 }] }),
    ]);
    await expect.poll(() => heard.length, { timeout: 10_000, interval: 20 }).toBe(2);
    expect(heard).toContainEqual({ kind: 'votes', paperIds: [4] });
    expect(heard).toContainEqual({ kind: 'entities', entities: [{ typename: 'Paper', id: 4 }] });
  });
});
