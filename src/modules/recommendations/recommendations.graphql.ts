import { enqueueInBackground } from '../../../jobs/jobs';
import { AppError, badUserInput } from '../../errors';
import { builder } from '../../graphql/builder';
import { PaperRef, UserRef } from '../../graphql/node-refs';
import { RECOMMENDATIONS_STORED, SIMILAR_PAPERS_STORED } from './ranking-parameters';
import { readRecommendations } from './recommendations';
import { similarPapersLoader } from './similar-papers-loader';

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
      return first === 0 ? [] : similarPapersLoader(context, first).load(paper.id);
    },
  }),
);

builder.objectField(UserRef, 'recommendedPapers', (t) =>
  t.field({
    type: [PaperRef],
    description:
      "A personal feed from this user's upvotes: papers similar to what they upvoted (recent upvotes count more), with some trending papers mixed in, never one they upvoted. Trending papers until they upvote. Only the user themselves may read it (FORBIDDEN otherwise).",
    args: {
      first: t.arg.int({
        defaultValue: DEFAULT_RECOMMENDED_PAPERS,
        description: `How many (0 to ${RECOMMENDATIONS_STORED}, default ${DEFAULT_RECOMMENDED_PAPERS}).`,
      }),
    },
    resolve: async (user, args, context) => {
      if (context.viewer?.user.id !== user.id) {
        throw new AppError('FORBIDDEN', 'Recommendations are private: only their user, signed in, may read them.');
      }
      const first = countArgument('first', args.first ?? DEFAULT_RECOMMENDED_PAPERS, RECOMMENDATIONS_STORED);
      const { papers, computedAt } = await readRecommendations(context.db, user.id, first);
      const maxAgeMs = context.config.recommendations.maxAgeHours * 3_600_000;
      if (computedAt === null || context.now.getTime() - computedAt.getTime() > maxAgeMs) {
        // Served meanwhile from what is stored (or trending); the next read gets the fresh list.
        enqueueInBackground(context.jobs, context.logger, 'refresh-recommendations', { userId: user.id }, {
          deduplicationId: `user:${user.id}`,
        });
      }
      return papers;
    },
  }),
);
