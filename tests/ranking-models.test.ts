// The recommendation fields join the schema before the app builds it.
import '../src/modules/recommendations/recommendations.graphql';
import { asc, eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { runJob } from '../jobs/registry';
import { rankingModels, recommendations } from '../src/db/schema';
import { loadDemoData } from '../src/demo/load-demo-data';
import { createLogger } from '../src/logger';
import { HAND_WEIGHTS, signalAlone } from '../src/modules/recommendations/ranking';
import { refreshRecommendations } from '../src/modules/recommendations/recommendations';
import { refreshSimilarPapers } from '../src/modules/recommendations/similar-papers';
import { findServedModel, rollBackRankingModel, tuneRankingModel } from '../src/modules/recommendations/tuning';
import { castVotes, paperRecord, savePaperRecords, testConfig, trending, userWithToken } from './support/fixtures';
import { database, setUpFileApp, testApp } from './support/file-app';
import { recordingJobQueue } from './support/recorders';

/** What the app enqueued, instead of running it. */
const { queue: recordingQueue, enqueued, clear: forgetEnqueued } = recordingJobQueue();
setUpFileApp({ jobs: recordingQueue });
beforeEach(forgetEnqueued);

/** A small demo world: readers with one or two topics, enough votes to validate on. */
async function loadWorld() {
  await loadDemoData(database.db, trending, { paperCount: 120, userCount: 60, now: new Date('2025-11-20T12:00:00Z') });
}

const storedModels = () => database.db.select().from(rankingModels).orderBy(asc(rankingModels.id));

describe('tune-recommendations', () => {
  it("validates without the held-out votes: a paper tied to a reader's others only by that reader's own vote is not their neighbour", async () => {
    // 25 readers, each alone on three papers of their own, the latest held out; 30 papers a crowd upvotes trend above them.
    const { paperIds: popular } = await savePaperRecords(
      database.db,
      Array.from({ length: 30 }, () => paperRecord()),
    );
    const { paperIds: own } = await savePaperRecords(
      database.db,
      Array.from({ length: 75 }, () => paperRecord()),
    );
    const votes = popular.flatMap((paperId, index) =>
      Array.from({ length: 3 + (index % 5) }, (_, voter) => ({ username: `crowd${voter}`, paperId, at: new Date('2025-11-12T09:00:00Z') })),
    );
    for (let reader = 0; reader < 25; reader++) {
      own.slice(reader * 3, reader * 3 + 3).forEach((paperId, order) => {
        votes.push({ username: `reader${reader}`, paperId, at: new Date(Date.UTC(2025, 10, 12, 10 + order)) });
      });
    }
    await castVotes(database.db, votes);
    // Stored with every vote: each reader's latest paper is the co-upvote neighbour of their other two.
    await refreshSimilarPapers(database.db, 'all');
    const result = await tuneRankingModel(database.db, trending);
    expect(result.validationUsers).toBeGreaterThanOrEqual(25);
    // Seen through their own vote, coUpvote alone would rank it first for every reader (hit-rate 1).
    expect(result.validation!.signals.coUpvote!.hitRate).toBe(0);
  });

  it('stores nothing with too little data, and the hand weights serve', async () => {
    const result = await tuneRankingModel(database.db, trending);
    expect(result).toMatchObject({ modelId: null, weights: HAND_WEIGHTS, validation: null, beatsTrending: false, validationUsers: 0 });
    expect(await storedModels()).toEqual([]);
    expect(await findServedModel(database.db)).toEqual({ id: null, weights: HAND_WEIGHTS });
  });

  it('fits a model on held-out votes, stores it with its figures, and serves it when it beats trending', async () => {
    await loadWorld();
    const result = (await runJob('tune-recommendations', {}, { db: database.db, config: testConfig, logger: createLogger('silent') })) as {
      modelId: number;
      beatsTrending: boolean;
    };
    const [model] = await storedModels();
    expect(model!.id).toBe(result.modelId);
    expect(model!.validationUsers).toBeGreaterThanOrEqual(20);
    expect(model!.trainingVotes).toBeGreaterThan(0);
    const validation = model!.validation as { model: { hitRate: number }; trending: { hitRate: number }; signals: Record<string, unknown> };
    expect(Object.keys(validation.signals).sort()).toEqual(['coReaders', 'coUpvote', 'content', 'freshness', 'readers', 'trending', 'unseen']);
    // On this world the fitted blend beats trending on validation, and is then served.
    expect(model!.beatsTrending).toBe(true);
    expect(validation.model.hitRate).toBeGreaterThan(validation.trending.hitRate);
    expect((await findServedModel(database.db)).id).toBe(model!.id);
  });

  it('never serves a model that loses to trending on validation', async () => {
    await loadWorld();
    const good = await tuneRankingModel(database.db, trending);
    expect(good.beatsTrending).toBe(true);
    // Least trending first: worse than trending by construction.
    const worse = await tuneRankingModel(database.db, trending, { fixedWeights: { ...signalAlone('trending'), trending: -1 } });
    expect(worse.modelId).toBeGreaterThan(good.modelId!);
    expect(worse.beatsTrending).toBe(false);
    expect(worse.validation!.model.hitRate).toBeLessThan(worse.validation!.trending.hitRate);
    expect((await findServedModel(database.db)).id).toBe(good.modelId);
  });

  it('rolls back to the model before, and feeds made with another model refresh when read', async () => {
    await loadWorld();
    const first = await tuneRankingModel(database.db, trending);
    const second = await tuneRankingModel(database.db, trending, { fixedWeights: { ...first.weights, trending: first.weights.trending + 1 } });
    expect(second.beatsTrending).toBe(true);
    expect((await findServedModel(database.db)).id).toBe(second.modelId);

    const { user, token } = await userWithToken(database.db, 'reader');
    await refreshRecommendations(database.db, user.id);
    const [row] = await database.db.select().from(recommendations).where(eq(recommendations.userId, user.id)).limit(1);
    expect(row!.modelId).toBe(second.modelId);
    const read = `{ viewer { recommendedPapers(first: 3) { id } } }`;
    await testApp.request(read, undefined, token);
    expect(enqueued).toEqual([]);

    expect(await rollBackRankingModel(database.db)).toMatchObject({ retired: second.modelId, served: { id: first.modelId } });
    const retired = (await storedModels()).find((model) => model.id === second.modelId)!;
    expect(retired.retiredAt).toBeInstanceOf(Date);
    await testApp.request(read, undefined, token);
    expect(enqueued).toEqual([{ name: 'refresh-recommendations', payload: { userId: user.id }, deduplicationId: `user:${user.id}` }]);
    await refreshRecommendations(database.db, user.id);
    const [refreshed] = await database.db.select().from(recommendations).where(eq(recommendations.userId, user.id)).limit(1);
    expect(refreshed!.modelId).toBe(first.modelId);
  });
});
