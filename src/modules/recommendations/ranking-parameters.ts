/**
 * The knobs of similar papers, with their defaults in one place, and the
 * list sizes. The personal ranking's weights are fitted (tuning.ts); its hand
 * weights live in ranking.ts. `npm run eval:recs` measures both offline.
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

/** Similar papers stored per paper: `Paper.similarPapers(first:)` serves up to this many. */
export const SIMILAR_PAPERS_STORED = 30;

/** Recommendations stored per user: `User.recommendedPapers(first:)` serves up to this many. */
export const RECOMMENDATIONS_STORED = 50;

/** Nearest papers stored per paper and signal (paper_neighbors): the personal ranking's candidates through each upvote. */
export const NEIGHBORS_STORED = 30;
