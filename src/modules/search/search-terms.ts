import { sql, type SQL } from 'drizzle-orm';

/** One term of a query in web-search syntax: a word (or hyphenated run), or a "quoted phrase", maybe -excluded. */
export interface SearchTerm {
  text: string;
  phrase: boolean;
  excluded: boolean;
}

/**
 * A query in web-search syntax as websearch_to_tsquery reads it: terms that
 * must all match, in groups of which one must (`or` between them).
 * "a b or c" is [[a, b], [c]]: (a and b) or c, as in tsquery, where "and"
 * binds tighter than "or".
 */
export function parseSearchTerms(query: string): SearchTerm[][] {
  const groups: SearchTerm[][] = [[]];
  let excluded = false;
  let index = 0;
  while (index < query.length) {
    const character = query[index]!;
    if (/\s/u.test(character)) {
      index += 1;
    } else if (character === '"') {
      const end = query.indexOf('"', index + 1);
      const text = query.slice(index + 1, end === -1 ? query.length : end);
      groups.at(-1)!.push({ text, phrase: true, excluded });
      excluded = false;
      index = end === -1 ? query.length : end + 1;
    } else if (character === '-') {
      excluded = true;
      index += 1;
    } else {
      const match = /^[^\s"]+/u.exec(query.slice(index))!;
      const text = match[0];
      index += text.length;
      if (text.toLowerCase() === 'or' && !excluded) {
        if (groups.at(-1)!.length > 0) groups.push([]);
      } else if (text.toLowerCase() !== 'or') {
        groups.at(-1)!.push({ text, phrase: false, excluded });
      }
      excluded = false;
    }
  }
  return groups.filter((group) => group.length > 0);
}

/**
 * The term's query in one configuration: the words in order for a phrase, all of them otherwise; accents folded as
 * the search document's are ("Sebastien" and "Sébastien" both find "Sébastien").
 */
const termQuery = (term: SearchTerm, configuration: 'english' | 'simple') =>
  term.phrase
    ? sql`phraseto_tsquery(${configuration}::regconfig, unaccent(${term.text}))`
    : sql`plainto_tsquery(${configuration}::regconfig, unaccent(${term.text}))`;

/**
 * The full-text queries of a search, as tsquery expressions:
 *
 * - `required`: every term must match either as English-stemmed text (title,
 *   keywords, abstract) or as written (author and organization names), so
 *   "Hochreiter prioritization" matches a paper by Hochreiter whose title says
 *   "prioritized"; excluded terms match neither way. A term that is only an
 *   English stop word ("the", but also the surname "He") is left out of it,
 *   as websearch_to_tsquery leaves it out; when every term is, the query is
 *   those words as written, so "He" alone still finds He's papers.
 * - `optional`: those stop-word terms as written, which rank a paper higher
 *   (a name) without being required.
 * - `anyTerm`: any of the terms not excluded, either way: what ranking reads
 *   (see fullTextRank).
 * - `excluded`: any of the -excluded terms, either way (empty when none).
 */
export function searchTermQueries(query: string): { required: SQL; anyTerm: SQL; optional: SQL; excluded: SQL } {
  const groups = parseSearchTerms(query);
  const either = (term: SearchTerm) => sql`search_either(${termQuery(term, 'english')}, ${termQuery(term, 'simple')})`;
  const requiredGroups = groups.map((group) =>
    group.map((term) => (term.excluded ? sql`(!! ${either(term)})` : either(term))).reduce((all, next) => sql`(${all} && ${next})`),
  );
  const required = requiredGroups.length === 0 ? sql`''::tsquery` : requiredGroups.reduce((all, next) => sql`(${all} || ${next})`);
  const stopWords = groups
    .flat()
    .filter((term) => !term.excluded)
    .map((term) => sql`search_stop_word(${termQuery(term, 'english')}, ${termQuery(term, 'simple')})`);
  const optional = stopWords.length === 0 ? sql`''::tsquery` : stopWords.reduce((all, next) => sql`(${all} || ${next})`);
  const wanted = groups
    .flat()
    .filter((term) => !term.excluded)
    .map(either);
  const anyTerm = wanted.length === 0 ? sql`''::tsquery` : wanted.reduce((all, next) => sql`(${all} || ${next})`);
  const exclusions = groups
    .flat()
    .filter((term) => term.excluded)
    .map(either);
  const excluded = exclusions.length === 0 ? sql`''::tsquery` : exclusions.reduce((all, next) => sql`(${all} || ${next})`);
  return { required, anyTerm, optional, excluded };
}
