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
  it('sends the votes announced in one turn of the event loop as one message, and each writer listener hears each at once', async () => {
    const { writer, heard } = await pair();
    const local: PublicDataChange[] = [];
    writer.subscribe((change) => local.push(change));
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
