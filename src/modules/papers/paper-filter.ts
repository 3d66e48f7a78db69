import { badUserInput } from '../../errors';
import { isArxivCategory } from './arxiv-category';
import type { PaperCriteria } from './papers.queries';

/** At most this many entries in each list of a filter (categories, excludeCategories, excludeKeywords). */
export const MAX_FILTER_ENTRIES = 20;
const MAX_KEYWORD_LENGTH = 100;

/** The criteria of PaperFilter, as every list of papers and the papers feed take them. */
export interface PaperFilterValues {
  authorId?: number | null;
  organization?: string | null;
  submittedBy?: string | null;
  publishedAfter?: Date | null;
  publishedBefore?: Date | null;
  keyword?: string | null;
  categories?: readonly string[] | null;
  excludeCategories?: readonly string[] | null;
  excludeKeywords?: readonly string[] | null;
}

/** The criteria of a filter; BAD_USER_INPUT (extensions.field names the list) when a list is too long or holds a malformed entry. */
export function criteriaFromFilter(filter: PaperFilterValues | null | undefined): PaperCriteria {
  return {
    authorId: filter?.authorId ?? undefined,
    organizationName: filter?.organization ?? undefined,
    submitterUsername: filter?.submittedBy ?? undefined,
    publishedAfter: filter?.publishedAfter ?? undefined,
    publishedBefore: filter?.publishedBefore ?? undefined,
    keyword: filter?.keyword ?? undefined,
    categories: categoryList(filter?.categories, 'categories'),
    excludeCategories: categoryList(filter?.excludeCategories, 'excludeCategories'),
    excludeKeywords: keywordList(filter?.excludeKeywords, 'excludeKeywords'),
  };
}

function categoryList(entries: readonly string[] | null | undefined, field: string): string[] | undefined {
  const list = checkedList(entries, field);
  if (!list) return undefined;
  for (const category of list) {
    if (!isArxivCategory(category)) {
      throw badUserInput(`Invalid ${field}: "${category.slice(0, 100)}" is not an arXiv category (such as cs.LG, hep-th or math.AG).`, {
        field,
      });
    }
  }
  return list;
}

/** Keywords are stored lower-cased; an empty one matches nothing and is refused. */
function keywordList(entries: readonly string[] | null | undefined, field: string): string[] | undefined {
  const list = checkedList(entries, field)?.map((keyword) => keyword.toLowerCase());
  for (const keyword of list ?? []) {
    if (keyword === '' || keyword.length > MAX_KEYWORD_LENGTH) {
      throw badUserInput(`Invalid ${field}: a keyword is 1 to ${MAX_KEYWORD_LENGTH} characters.`, { field });
    }
  }
  return list;
}

/** The trimmed entries, without repeats; undefined for an absent or empty list. */
function checkedList(entries: readonly string[] | null | undefined, field: string): string[] | undefined {
  if (!entries || entries.length === 0) return undefined;
  if (entries.length > MAX_FILTER_ENTRIES) throw badUserInput(`Invalid ${field}: at most ${MAX_FILTER_ENTRIES} entries.`, { field });
  return [...new Set(entries.map((entry) => entry.trim()))];
}
