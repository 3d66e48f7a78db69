/**
 * The knobs of similar papers and recommendations, with their defaults in one
 * place. `npm run eval:recs` measures them offline (hit-rate@10 and NDCG@10
 * on held-out upvotes); change a default only with its figures.
 */

/** How much each signal counts in a similar-papers score. */
export interface SimilarityWeights {
  /** Cosine of the tf-idf vectors of the two papers' search documents, 0..1. */
  content: number;
  /** Co-upvote cosine, shrunk for papers with few voters (see co-upvotes.ts), 0..1. */
  coUpvote: number;
  /** The candidate's trending score relative to the top paper's, 0..1: a tie-breaker and the fallback. */
  trending: number;
}

/**
 * Content leads: on the demo data every extra bit of co-upvote weight lowered
 * both metrics (voters there share topics, which the words already capture,
 * and a user's latest upvotes go to new papers that have few votes yet), so
 * co-upvotes only break ties and serve papers without words in common. The
 * trending share of the score lifts papers people are upvoting now.
 */
export const DEFAULT_SIMILARITY_WEIGHTS: SimilarityWeights = { content: 1, coUpvote: 0.05, trending: 0.2 };

export interface RecommendationParameters {
  /** An upvote's weight in a user's profile halves every this many days (relative to their latest upvote). */
  upvoteHalfLifeDays: number;
  /** The share of the slots given to trending papers, spread evenly down the list (0 = none, 1 = trending only). */
  trendingShare: number;
}

export const DEFAULT_RECOMMENDATION_PARAMETERS: RecommendationParameters = {
  upvoteHalfLifeDays: 30,
  trendingShare: 0.1,
};

/** Similar papers stored per paper: `Paper.similarPapers(first:)` serves up to this many. */
export const SIMILAR_PAPERS_STORED = 30;

/** Recommendations stored per user: `User.recommendedPapers(first:)` serves up to this many. */
export const RECOMMENDATIONS_STORED = 50;
