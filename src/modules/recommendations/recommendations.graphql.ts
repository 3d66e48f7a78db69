import { resolveArrayConnection } from '@pothos/plugin-relay';
import { enqueueInBackground } from '../../job-queue';
import type { PaperRow } from '../../db/schema';
import { AppError, badUserInput } from '../../errors';
import { builder } from '../../graphql/builder';
import { pageRequestFrom } from '../../graphql/connection';
import type { Context } from '../../graphql/context';
import { PaperRef, UserRef } from '../../graphql/node-refs';
import { requireViewer } from '../accounts/accounts.graphql';
import { dismissRecommendation, undoDismissRecommendation } from './dismissals';
import type { RecommendationReason } from './ranking';
import { RECOMMENDATIONS_STORED, SIMILAR_PAPERS_STORED } from './ranking-parameters';
import { isNewReaderFeedBehind, isStale, readRecommendations, refreshRecommendations, type RecommendationItem } from './recommendations';
import { similarPapersLoader } from './similar-papers-loader';
import { findServedModel } from './tuning';

const DEFAULT_SIMILAR_PAPERS = 5;
const DEFAULT_RECOMMENDED_PAPERS = 20;

function countArgument(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw badUserInput(`\`${name}\` must be between 0 and ${max}, got ${value}.`);
  }
  return value;
}

builder.objectField(PaperRef, 'similarPapers', (t) =>
  t.field({
    type: [PaperRef],
    description:
      'Papers like this one, best first: similar words (title, keywords, abstract, authors) blended with "people who upvoted this also upvoted", precomputed. Never the paper itself; trending papers fill in while nothing is known yet.',
    args: {
      first: t.arg.int({
        defaultValue: DEFAULT_SIMILAR_PAPERS,
        description: `How many (0 to ${SIMILAR_PAPERS_STORED}, default ${DEFAULT_SIMILAR_PAPERS}).`,
      }),
    },
    resolve: (paper, args, context) => {
      const first = countArgument('first', args.first ?? DEFAULT_SIMILAR_PAPERS, SIMILAR_PAPERS_STORED);
      if (first === 0) return [];
      // A kept list at once (no promise), the others batched.
      return context.sharedReads.keptSimilarPapers(paper.id, first) ?? similarPapersLoader(context, first).load(paper.id);
    },
  }),
);

/** Only the user themselves, signed in, may read their feed; the stored list refreshes in the background when stale. */
async function readOwnFeed(user: { id: number }, first: number, context: Context): Promise<RecommendationItem[]> {
  if (context.viewer?.user.id !== user.id) {
    throw new AppError('FORBIDDEN', 'Recommendations are private: only their user, signed in, may read them.');
  }
  // Cold start: a new reader's first upvotes shape their feed on the next read, computed now (tens of ms).
  if (await isNewReaderFeedBehind(context.db, user.id)) await refreshRecommendations(context.db, user.id, context.now);
  const [stored, served] = await Promise.all([readRecommendations(context.db, user.id, first), findServedModel(context.db)]);
  // Missing, old, or ranked by another model than the one served now (a new fit, or a rollback).
  if (isStale(stored, served.id, context.now, context.config.recommendations.maxAgeHours * 3_600_000)) {
    // Served meanwhile from what is stored (or trending); the next read gets the fresh list.
    enqueueRefresh(context, user.id);
  }
  return stored.items;
}

function enqueueRefresh(context: Context, userId: number): void {
  enqueueInBackground(context.jobs, context.logger, 'refresh-recommendations', { userId }, { deduplicationId: `user:${userId}` });
}

builder.objectField(UserRef, 'recommendedPapers', (t) =>
  t.field({
    type: [PaperRef],
    description:
      "A personal feed from this user's upvotes: the papers of `recommendations`, in the same order. Trending papers until they upvote. Only the user themselves may read it (FORBIDDEN otherwise).",
    args: {
      first: t.arg.int({
        defaultValue: DEFAULT_RECOMMENDED_PAPERS,
        description: `How many (0 to ${RECOMMENDATIONS_STORED}, default ${DEFAULT_RECOMMENDED_PAPERS}).`,
      }),
    },
    resolve: async (user, args, context) => {
      const first = countArgument('first', args.first ?? DEFAULT_RECOMMENDED_PAPERS, RECOMMENDATIONS_STORED);
      return (await readOwnFeed(user, first, context)).map((item) => item.paper);
    },
  }),
);

const RecommendationReasonKind = builder.enumType('RecommendationReasonKind', {
  description: 'Which signal a recommendation reason comes from.',
  values: {
    SIMILAR_TO_UPVOTED: { description: 'Like a paper the viewer upvoted (similar words, or upvoted by the same readers).' },
    POPULAR_WITH_SIMILAR_READERS: { description: "Popular with readers who upvote papers with one of the viewer's keywords." },
    UPVOTED_BY_SIMILAR_READERS: { description: 'Upvoted lately by readers who upvoted the same papers as the viewer (no reader is named).' },
    TRENDING: { description: 'Trending now.' },
    NEW: { description: 'Featured recently.' },
    NEW_SINCE_LAST_UPVOTE: { description: "Featured since (or shortly before) the viewer's latest upvote." },
  } as const,
});

const RecommendationReasonRef = builder.objectRef<RecommendationReason>('RecommendationReason').implement({
  description: 'Why a paper was recommended: one of the signals that ranked it, with what it refers to.',
  fields: (t) => ({
    kind: t.field({ type: RecommendationReasonKind, description: 'The signal.', resolve: (reason) => reason.kind }),
    text: t.string({
      description:
        'For people: "like <title>", "popular with readers who upvote <keyword>", "upvoted by readers who upvote what you upvote", "trending", "new" or "new since your last upvote".',
      resolve: async (reason, _args, context) => {
        switch (reason.kind) {
          case 'SIMILAR_TO_UPVOTED': {
            const paper = await PaperRef.getDataloader(context).load(reason.paperId);
            return `like ${paper.title}`;
          }
          case 'POPULAR_WITH_SIMILAR_READERS':
            return `popular with readers who upvote ${reason.keyword}`;
          case 'UPVOTED_BY_SIMILAR_READERS':
            return 'upvoted by readers who upvote what you upvote';
          case 'TRENDING':
            return 'trending';
          case 'NEW':
            return 'new';
          case 'NEW_SINCE_LAST_UPVOTE':
            return 'new since your last upvote';
        }
      },
    }),
    paper: t.field({
      type: PaperRef,
      nullable: true,
      description: 'SIMILAR_TO_UPVOTED: the paper the viewer upvoted that it is like. Null otherwise.',
      resolve: (reason) => (reason.kind === 'SIMILAR_TO_UPVOTED' ? reason.paperId : null),
    }),
    keyword: t.string({
      nullable: true,
      description: 'POPULAR_WITH_SIMILAR_READERS: the keyword. Null otherwise.',
      resolve: (reason) => (reason.kind === 'POPULAR_WITH_SIMILAR_READERS' ? reason.keyword : null),
    }),
  }),
});

const RecommendationRef = builder.objectRef<RecommendationItem>('Recommendation').implement({
  description: 'A paper in the personal feed, with its score and why.',
  fields: (t) => ({
    paper: t.field({ type: PaperRef, description: 'The recommended paper.', resolve: (item) => item.paper }),
    score: t.exposeFloat('score', {
      description: "The ranking model's score (higher first; 0 for trending papers filling a short list).",
    }),
    reasons: t.field({
      type: [RecommendationReasonRef],
      description: 'The signals that contributed most to the score, largest first.',
      resolve: (item) => item.reasons,
    }),
  }),
});

builder.objectField(UserRef, 'recommendations', (t) =>
  t.connection(
    {
      type: RecommendationRef,
      description: `The personal feed, best first: each paper with its score and the reasons read off the same scores. Up to ${RECOMMENDATIONS_STORED}; \`recommendedPapers\` lists the same papers. Only the user themselves may read it (FORBIDDEN otherwise).`,
      resolve: async (user, args, context) => {
        const request = pageRequestFrom(args);
        if (request.direction === 'backward') throw badUserInput('Recommendations page forward only, with `first`/`after`.');
        const items = await readOwnFeed(user, RECOMMENDATIONS_STORED, context);
        const connection = resolveArrayConnection({ args: { first: request.size, after: args.after ?? undefined } }, items);
        return { ...connection, totalCount: async () => items.length };
      },
    },
    { name: 'RecommendationConnection', description: 'A page of the personal feed.' },
    { name: 'RecommendationEdge', description: 'A recommendation in a page of the personal feed.' },
  ),
);

builder.mutationFields((t) => ({
  dismissRecommendation: t.field({
    type: PaperRef,
    description:
      'Not interested (signed in): the paper leaves your recommendations at once and is not recommended again; papers like it rank lower from the next refresh. Idempotent. NOT_FOUND for an unknown paper.',
    args: { paperId: t.arg.globalID({ required: true, for: [PaperRef], description: 'The Paper ID.' }) },
    resolve: (_root, { paperId }, context) => changeDismissal(context, paperId.id, dismissRecommendation),
  }),
  undoDismissRecommendation: t.field({
    type: PaperRef,
    description: 'Takes back a dismissRecommendation (signed in). Idempotent. NOT_FOUND for an unknown paper.',
    args: { paperId: t.arg.globalID({ required: true, for: [PaperRef], description: 'The Paper ID.' }) },
    resolve: (_root, { paperId }, context) => changeDismissal(context, paperId.id, undoDismissRecommendation),
  }),
}));

async function changeDismissal(context: Context, paperId: number, change: typeof dismissRecommendation): Promise<PaperRow> {
  const { user } = requireViewer(context);
  const paper = await change(context.db, user.id, paperId);
  if (!paper) throw new AppError('NOT_FOUND', 'No paper has this ID.');
  // Papers like it move at the next refresh, after a burst of changes, as after upvotes.
  context.voterRefreshes.note(user.id);
  return paper;
}
