// The recommendation fields join the schema before the app builds it.
import '../src/modules/recommendations/recommendations.graphql';
import { and, eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { recommendationDismissals, recommendations } from '../src/db/schema';
import { rankWithReasons, scoreCandidates, signalAlone } from '../src/modules/recommendations/ranking';
import { refreshRecommendations } from '../src/modules/recommendations/recommendations';
import { refreshSimilarPapers } from '../src/modules/recommendations/similar-papers';
import { castVotes, paperRecord, savePaperRecords, saveTopicPapers, testConfig, userWithToken } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { database, setUpFileApp, testApp } from './support/file-app';
import { recordingJobQueue } from './support/recorders';
import { createTestApp } from './support/test-app';
import { VOTER_FLUSH_MS } from '../src/modules/recommendations/voter-refreshes';

/** What the app enqueued, instead of running it. */
const { queue: recordingQueue, enqueued, clear: forgetEnqueued } = recordingJobQueue();
setUpFileApp({ jobs: recordingQueue });
beforeEach(forgetEnqueued);

const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString('base64');
const paperIdOf = (id: string) => Number(Buffer.from(id, 'base64').toString().split(':')[1]);

const topicPapers = () => saveTopicPapers(database.db, 6);

const FEED = `query($first: Int) {
  viewer {
    recommendations(first: $first) {
      totalCount
      edges { node { paper { id } score reasons { kind text keyword paper { id } } } }
    }
    recommendedPapers(first: $first) { id }
  }
}`;

interface FeedItem {
  paper: { id: string };
  score: number;
  reasons: { kind: string; text: string; keyword: string | null; paper: { id: string } | null }[];
}

async function readFeed(token: string, first = 50) {
  const response = await testApp.request(FEED, { first }, token);
  expect(response.errors).toBeUndefined();
  const viewer = response.data!.viewer;
  const items: FeedItem[] = viewer.recommendations.edges.map((edge: { node: FeedItem }) => edge.node);
  return {
    items,
    ids: items.map((item) => paperIdOf(item.paper.id)),
    papers: viewer.recommendedPapers.map((paper: { id: string }) => paperIdOf(paper.id)) as number[],
  };
}

const at = (hour: number) => new Date(Date.UTC(2025, 10, 12, hour));

describe('viewer.recommendations', () => {
  it('gives each paper its score and reasons from the signals that ranked it, in the order of recommendedPapers', async () => {
    const topics = await topicPapers();
    const { user, token } = await userWithToken(database.db, 'ada');
    await castVotes(database.db, [
      { username: 'ada', paperId: topics.robotics[0]!, at: at(9) },
      { username: 'ada', paperId: topics.robotics[1]!, at: at(10) },
      // Others who read robotics also upvote robotics[2].
      { username: 'grace', paperId: topics.robotics[0]!, at: at(9) },
      { username: 'grace', paperId: topics.robotics[2]!, at: at(9) },
    ]);
    await refreshSimilarPapers(database.db, 'all');
    await refreshRecommendations(database.db, user.id);
    const { items, ids, papers } = await readFeed(token);
    expect(papers).toEqual(ids);
    expect(ids).not.toContain(topics.robotics[0]);
    expect(ids).not.toContain(topics.robotics[1]);
    // The other robotics papers lead, each "like" one of ada's upvotes.
    expect(new Set(ids.slice(0, 4))).toEqual(new Set(topics.robotics.slice(2)));
    for (const item of items.slice(0, 4)) {
      const like = item.reasons.find((reason) => reason.kind === 'SIMILAR_TO_UPVOTED');
      expect(like, JSON.stringify(item)).toBeDefined();
      expect([topics.robotics[0], topics.robotics[1]]).toContain(paperIdOf(like!.paper!.id));
      expect(like!.text).toMatch(/^like (robot|grasping)/);
    }
    const scores = items.map((item) => item.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    for (const item of items) expect(item.reasons.length).toBeGreaterThan(0);
  });

  it('never shows one reader what another upvoted or dismissed', async () => {
    const topics = await topicPapers();
    const { user: ada, token: adaToken } = await userWithToken(database.db, 'ada');
    const { user: grace, token: graceToken } = await userWithToken(database.db, 'grace');
    await castVotes(database.db, [
      { username: 'ada', paperId: topics.robotics[0]!, at: at(9) },
      { username: 'grace', paperId: topics.robotics[1]!, at: at(9) },
      { username: 'grace', paperId: topics.diffusion[0]!, at: at(10) },
      { username: 'grace', paperId: topics.reasoning[0]!, at: at(11) },
    ]);
    const dismiss = `mutation($id: ID!) { dismissRecommendation(paperId: $id) { id } }`;
    expect((await testApp.request(dismiss, { id: globalId('Paper', topics.robotics[2]!) }, graceToken)).errors).toBeUndefined();
    await refreshSimilarPapers(database.db, 'all');
    await refreshRecommendations(database.db, ada.id);
    await refreshRecommendations(database.db, grace.id);
    const { items } = await readFeed(adaToken);
    const reasons = items.flatMap((item) => item.reasons);
    expect(reasons.some((reason) => reason.paper)).toBe(true);
    for (const reason of reasons) {
      // Only ada's upvote is named, and only her keyword.
      if (reason.paper) expect(paperIdOf(reason.paper.id)).toBe(topics.robotics[0]);
      if (reason.keyword) expect(reason.keyword).toBe('robot');
      for (const title of ['grasping manipulation', 'diffusion denoising', 'reasoning arithmetic', 'manipulation locomotion']) {
        expect(reason.text.toLowerCase()).not.toContain(title);
      }
    }
    // And grace's own reasons name only her upvotes.
    for (const item of (await readFeed(graceToken)).items) {
      for (const reason of item.reasons) {
        if (reason.paper) expect([topics.robotics[1], topics.diffusion[0], topics.reasoning[0]]).toContain(paperIdOf(reason.paper.id));
      }
    }
  });
});

describe('the unseen signal', () => {
  it("is 1 for papers featured since the reader's latest upvote, halving every day before it, and says so as a reason", async () => {
    const featured = (iso: string) => paperRecord({ submittedAt: new Date(iso), publishedAt: new Date('2025-11-01T00:00:00Z') });
    const {
      paperIds: [upvoted, dayBefore, twoDaysBefore, since],
    } = await savePaperRecords(database.db, [
      featured('2025-11-10T00:00:00Z'),
      featured('2025-11-11T00:00:00Z'),
      featured('2025-11-10T00:00:00Z'),
      featured('2025-11-12T06:00:00Z'),
    ]);
    const { user } = await userWithToken(database.db, 'ada');
    await castVotes(database.db, [{ username: 'ada', paperId: upvoted!, at: new Date('2025-11-12T00:00:00Z') }]);
    const candidates = (await scoreCandidates(database.db, [user.id])).get(user.id)!;
    const unseen = new Map(candidates.map((candidate) => [candidate.paperId, candidate.features.unseen]));
    expect(unseen.has(upvoted!)).toBe(false);
    expect(unseen.get(since!)).toBe(1);
    expect(unseen.get(dayBefore!)).toBeCloseTo(0.5, 6);
    expect(unseen.get(twoDaysBefore!)).toBeCloseTo(0.25, 6);
    const [first] = rankWithReasons(candidates, { ...signalAlone('unseen'), freshness: 1 }, 1);
    expect(first!.paperId).toBe(since);
    // "New since your last upvote" replaces "new", which it says too.
    expect(first!.reasons).toContainEqual({ kind: 'NEW_SINCE_LAST_UPVOTE' });
    expect(first!.reasons).not.toContainEqual({ kind: 'NEW' });
  });
});

describe('dismissRecommendation', () => {
  const DISMISS = `mutation($id: ID!) { dismissRecommendation(paperId: $id) { id } }`;
  const UNDO = `mutation($id: ID!) { undoDismissRecommendation(paperId: $id) { id } }`;

  it('removes the paper from the feed at once, idempotently, ranks papers like it lower at the next refresh, and undoes', async () => {
    const topics = await topicPapers();
    const { user, token } = await userWithToken(database.db, 'ada');
    await castVotes(database.db, [
      { username: 'ada', paperId: topics.robotics[0]!, at: at(9) },
      { username: 'ada', paperId: topics.diffusion[0]!, at: at(10) },
    ]);
    await refreshSimilarPapers(database.db, 'all');
    await refreshRecommendations(database.db, user.id);
    const before = (await readFeed(token)).ids;
    const target = topics.robotics[2]!;
    expect(before).toContain(target);

    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await testApp.request(DISMISS, { id: globalId('Paper', target) }, token);
      expect(response.errors).toBeUndefined();
      expect(response.data!.dismissRecommendation.id).toBe(globalId('Paper', target));
    }
    expect(await database.db.select().from(recommendationDismissals)).toHaveLength(1);
    const stored = await database.db
      .select()
      .from(recommendations)
      .where(and(eq(recommendations.userId, user.id), eq(recommendations.paperId, target)));
    expect(stored).toEqual([]);
    expect((await readFeed(token)).ids).not.toContain(target);
    expect(enqueued).toContainEqual({ name: 'refresh-voters-recommendations', payload: { userIds: [user.id], votedBefore: expect.any(String) } });

    // At the refresh: never again, and the robotics papers (like the dismissed one) fall behind the diffusion ones.
    const rankOf = (ids: number[], paperIds: number[]) => paperIds.map((id) => ids.indexOf(id)).filter((index) => index >= 0);
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const robotsBefore = mean(rankOf(before, topics.robotics.slice(3)));
    await refreshRecommendations(database.db, user.id);
    const after = (await readFeed(token)).ids;
    expect(after).not.toContain(target);
    expect(mean(rankOf(after, topics.robotics.slice(3)))).toBeGreaterThan(robotsBefore);

    for (let attempt = 0; attempt < 2; attempt++) {
      expect((await testApp.request(UNDO, { id: globalId('Paper', target) }, token)).errors).toBeUndefined();
    }
    expect(await database.db.select().from(recommendationDismissals)).toEqual([]);
    await refreshRecommendations(database.db, user.id);
    expect((await readFeed(token)).ids).toContain(target);
  });

  it('needs a signed-in reader and a known paper, and writes nothing otherwise', async () => {
    const [paperId] = (await savePaperRecords(database.db, [paperRecord()])).paperIds;
    const { token } = await userWithToken(database.db, 'ada');
    for (const mutation of [DISMISS, UNDO]) {
      expect(errorCodes(await testApp.request(mutation, { id: globalId('Paper', paperId!) }))).toEqual(['UNAUTHENTICATED']);
      expect(errorCodes(await testApp.request(mutation, { id: globalId('Paper', 999_999) }, token))).toEqual(['NOT_FOUND']);
    }
    expect(await database.db.select().from(recommendationDismissals)).toEqual([]);
    expect(enqueued).toEqual([]);
  });
});

describe('cold start', () => {
  it("refreshes a new reader's feed, like anyone's, once per burst of upvotes, after the burst delay", async () => {
    const delayedApp = createTestApp(database.db, {
      jobs: recordingQueue,
      config: { ...testConfig, recommendations: { ...testConfig.recommendations, refreshDelayMs: 30_000 } },
    });
    const topics = await topicPapers();
    const { user, token } = await userWithToken(database.db, 'newcomer');
    const upvote = `mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes } }`;
    expect((await delayedApp.request(upvote, { id: globalId('Paper', topics.reasoning[0]!) }, token)).errors).toBeUndefined();
    // The vote itself queues nothing: the process hands its voters over together, within VOTER_FLUSH_MS.
    expect(enqueued).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, VOTER_FLUSH_MS + 100));
    expect(enqueued).toEqual([
      { name: 'refresh-voters-recommendations', payload: { userIds: [user.id], votedBefore: expect.any(String) }, delayMs: 30_000 },
    ]);

    await castVotes(
      database.db,
      topics.diffusion.slice(0, 3).map((paperId) => ({ username: 'newcomer', paperId, at: at(9) })),
    );
    forgetEnqueued();
    // Within half the delay the job queued still runs after this vote: nothing more is queued, even when the app stops.
    expect((await delayedApp.request(upvote, { id: globalId('Paper', topics.reasoning[1]!) }, token)).errors).toBeUndefined();
    await delayedApp.close();
    expect(enqueued).toEqual([]);
  });

  it("computes a new reader's feed on the read after their upvote, no job needed; an established reader is served the stored list", async () => {
    const topics = await topicPapers();
    await refreshSimilarPapers(database.db, 'all');
    const { token } = await userWithToken(database.db, 'newcomer');
    const upvote = `mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes } }`;
    // The recording queue runs nothing: the feed below comes from the read itself.
    expect((await testApp.request(upvote, { id: globalId('Paper', topics.reasoning[0]!) }, token)).errors).toBeUndefined();
    const first = await readFeed(token, 5);
    expect(new Set(first.ids)).toEqual(new Set(topics.reasoning.slice(1)));
    for (const item of first.items) {
      expect(
        item.reasons.some((reason) => reason.kind === 'SIMILAR_TO_UPVOTED'),
        JSON.stringify(item),
      ).toBe(true);
    }
    // A second upvote, in another topic, reshapes it on the next read.
    expect((await testApp.request(upvote, { id: globalId('Paper', topics.diffusion[0]!) }, token)).errors).toBeUndefined();
    const second = await readFeed(token, 10);
    expect(second.ids.filter((id) => topics.diffusion.includes(id)).length).toBeGreaterThan(0);
    expect(second.ids).not.toContain(topics.diffusion[0]);

    // With more than three upvotes the reader is established: the read serves the stored list, the job refreshes it.
    const computedAt = async () =>
      (await database.db.select({ at: recommendations.computedAt }).from(recommendations).where(eq(recommendations.rank, 0)))[0]?.at;
    const before = await computedAt();
    await castVotes(
      database.db,
      topics.robotics.slice(0, 2).map((paperId) => ({ username: 'newcomer', paperId, at: new Date() })),
    );
    const stored = await readFeed(token, 10);
    expect(await computedAt()).toEqual(before);
    expect(stored.ids).not.toContain(topics.robotics[0]);
  });
});
