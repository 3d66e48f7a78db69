import { builder } from '../../graphql/builder';
import { pageRequestFrom, toConnection } from '../../graphql/connection';
import { PaperConnection } from '../papers/papers.graphql';
import { MAX_QUERY_LENGTH, countSearchResults, normalizeSearchQuery, searchPapers, searchSnippets } from './search.queries';

builder.queryField('searchPapers', (t) =>
  t.field({
    type: PaperConnection,
    description:
      'Full-text search over titles, abstracts, keywords and author names, tolerant of typos in titles and names, ranked by relevance blended with popularity. Edges carry a highlighted snippet.',
    args: {
      query: t.arg.string({
        required: true,
        description: `What to look for, 1 to ${MAX_QUERY_LENGTH} characters; web-search syntax works: "a phrase", -excluded, or.`,
      }),
      first: t.arg.int({ description: 'Return the first n results (0 to 100, default 20).' }),
      after: t.arg.string({ description: 'Start after the result with this cursor.' }),
    },
    resolve: async (_root, args, context) => {
      const query = normalizeSearchQuery(args.query);
      const page = await searchPapers(context.db, query, pageRequestFrom(args));
      const snippets = await searchSnippets(
        context.db,
        query,
        page.rows.map((row) => row.id),
      );
      const rows = page.rows.map((row) => ({ ...row, snippet: snippets.get(row.id) }));
      return toConnection({ ...page, rows }, () => countSearchResults(context.db, query));
    },
  }),
);
