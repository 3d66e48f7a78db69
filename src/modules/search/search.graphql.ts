import { builder } from '../../graphql/builder';
import { pageRequestFrom, toConnection } from '../../graphql/connection';
import { PaperConnection, paperCriteriaOf, paperFilterArg } from '../papers/papers.graphql';
import {
  MAX_QUERY_LENGTH,
  countSearchResults,
  normalizeSearchQuery,
  searchHintFor,
  searchPapers,
  semanticSearchFor,
  type SearchHint,
} from './search.queries';

const SearchHintRef = builder.objectRef<SearchHint>('SearchHint').implement({
  description: 'How a search query naming an arXiv paper was read: whether that paper is here, and what to do if not.',
  fields: (t) => ({
    arxivId: t.exposeString('arxivId', { description: 'The arXiv id the query names, without a version, e.g. "2306.13229".' }),
    found: t.exposeBoolean('found', { description: 'Whether the paper is on this site; then it is the (only) result.' }),
    message: t.exposeString('message', { description: 'A sentence for the reader: where the paper is, or why it is not here and how to add it.' }),
  }),
});

builder.objectField(PaperConnection, 'searchHint', (t) =>
  t.field({
    type: SearchHintRef,
    nullable: true,
    description:
      'In search results: set when the query names an arXiv paper (an id, "arXiv:" id, abs/pdf URL), saying whether it is here. Null for other queries and elsewhere.',
    resolve: (connection) => (connection as { searchHint?: SearchHint | null }).searchHint ?? null,
  }),
);

builder.queryField('searchPapers', (t) =>
  t.field({
    type: PaperConnection,
    description:
      'Search over titles, abstracts, keywords, author and organization names: every word must match one of them (text stemmed, names as written, accents folded), ranked by where the words matched, blended with popularity; tolerant of typos in titles and names. Papers near the query in meaning (latent semantic vectors of the corpus) join by reciprocal rank fusion, even without the words. A query naming an arXiv id (2306.13229, arXiv:2306.13229v2, an abs or pdf URL) answers that paper, with searchHint. Edges carry a highlighted snippet.',
    args: {
      query: t.arg.string({
        required: true,
        description: `What to look for, 1 to ${MAX_QUERY_LENGTH} characters; web-search syntax works: "a phrase", -excluded, or.`,
      }),
      first: t.arg.int({ description: 'Return the first n results (0 to 100, default 20).' }),
      after: t.arg.string({ description: 'Start after the result with this cursor.' }),
      filter: paperFilterArg(t.arg),
    },
    resolve: async (_root, args, context) => {
      const query = normalizeSearchQuery(args.query);
      const criteria = paperCriteriaOf(args.filter);
      const semantic = await semanticSearchFor(context.db, query);
      const page = await searchPapers(context.db, query, pageRequestFrom(args), criteria, semantic);
      // Each row carries its query: PaperEdge.snippet highlights it, only when asked for (ts_headline is costly).
      const rows = page.rows.map((row) => ({ ...row, searchQuery: query }));
      const searchHint = await searchHintFor(context.db, query, context.config.submissions.maxAgeDays);
      return { ...toConnection({ ...page, rows }, () => countSearchResults(context.db, query, criteria, semantic)), searchHint };
    },
  }),
);
