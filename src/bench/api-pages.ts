/** The API's pages that `npm run bench` and the profile tool request, as GraphQL documents. */

/** The trending page every server serves: 50 papers by trending key with title, abstract, publication time, upvotes, organization and authors in order. */
const TRENDING_FIELDS = 'arxivId title abstract publishedAt upvotes organization { name } authors { name }';
export const TRENDING_QUERY = `query Trending { trendingPapers(first: 50) { edges { node { ${TRENDING_FIELDS} } } } }`;
export const TRENDING_SIGNED_IN_QUERY = `query Trending { trendingPapers(first: 50) { edges { node { ${TRENDING_FIELDS} viewerHasUpvoted } } } }`;

const PAPER_LIST_FIELDS = 'id arxivId title upvotes trendingScore authors { name author { id name } }';
/** A day's papers (variable `date`), 50 by upvotes. */
export const DAILY_QUERY = `query ($date: Date!) { dailyPapers(date: $date, first: 50) { edges { node { ${PAPER_LIST_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
/** A paper's page (variable `arxivId`) with its authors and five similar papers. */
export const PAPER_QUERY = `query ($arxivId: String!) { paper(arxivId: $arxivId) { id arxivId title abstract upvotes authors { name author { id name } } similarPapers(first: 5) { id arxivId title upvotes } } }`;
