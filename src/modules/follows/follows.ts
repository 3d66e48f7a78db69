import { createHash } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import type { FollowKind, FollowRow, PaperRow } from '../../db/schema';
import { AppError, badUserInput } from '../../errors';
import type { Page, PageRequest } from '../../db/keyset';
import { isArxivCategory } from '../papers/arxiv-category';
import { arxivIdInQuery } from '../papers/arxiv-id';
import { criteriaFromFilter, type PaperFilterValues } from '../papers/paper-filter';
import type { PaperCriteria } from '../papers/papers.queries';
import { normalizeSearchQuery } from '../search/search.queries';
import { searchTermQueries } from '../search/search-terms';
import { hasLoneSurrogate } from '../../text-input';
import {
  countFollowedPapers,
  deleteFollowById,
  deleteFollowBySubject,
  followedBranches,
  followsForFeed,
  insertFollow,
  listFollowedPapers,
  subjectExists,
  tsqueryNodeCount,
  type FollowedPapers,
  type NewFollow,
} from './follows.queries';

/** A keyword is stored lower-cased, as papers' keywords are. */
export const MAX_FOLLOWED_KEYWORD_LENGTH = 100;

/** What to follow: exactly one of these, as the GraphQL FollowInput gives it (ids already decoded). */
export interface FollowSubject {
  authorId?: number | null;
  organizationId?: number | null;
  category?: string | null;
  keyword?: string | null;
  search?: { query: string; filter?: PaperFilterValues | null } | null;
}

/** A saved search's filter as stored in follows.search_filter: JSON, dates as ISO strings, no empty entries. */
type StoredFilter = Record<string, unknown>;

function storedFilter(filter: PaperFilterValues | null | undefined): StoredFilter | null {
  if (!filter) return null;
  const stored: StoredFilter = {};
  for (const key of Object.keys(filter).sort() as (keyof PaperFilterValues)[]) {
    const value = filter[key];
    if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    stored[key] = value instanceof Date ? value.toISOString() : Array.isArray(value) ? [...value].sort() : value;
  }
  return Object.keys(stored).length === 0 ? null : stored;
}

/** The criteria of a stored filter (it was checked when followed). */
export function criteriaOfStoredFilter(stored: unknown): PaperCriteria {
  const filter = { ...(stored as StoredFilter) } as Record<string, unknown>;
  for (const key of ['publishedAfter', 'publishedBefore']) if (typeof filter[key] === 'string') filter[key] = new Date(filter[key] as string);
  return criteriaFromFilter(filter as PaperFilterValues);
}

/**
 * The full-text query a saved search matches papers with: searchPapers'
 * `matching` terms (every word, stemmed or as written; see search-terms.ts),
 * computed once when followed and stored.
 */
function savedSearchQuery(query: string): SQL {
  const { required, optional } = searchTermQueries(query);
  return sql`(select case when numnode(r) = 0 then o else r end from (select ${required} as r, ${optional} as o) parts)`;
}

/**
 * The follow row for `subject`, validated: BAD_USER_INPUT naming the field
 * (`extensions.field`) for a malformed one, NOT_FOUND for an unknown author or
 * organization. Exactly one field must be given.
 */
export async function followOf(db: Database, subject: FollowSubject): Promise<NewFollow> {
  const given = (Object.keys(subject) as (keyof FollowSubject)[]).filter((key) => subject[key] !== null && subject[key] !== undefined);
  if (given.length !== 1) {
    throw badUserInput('Give exactly one of authorId, organizationId, category, keyword and search.', { field: 'input' });
  }
  if (subject.authorId != null) {
    if (!(await subjectExists(db, 'authors', subject.authorId))) throw new AppError('NOT_FOUND', 'No author has this ID.', { field: 'authorId' });
    return { kind: 'AUTHOR', subjectKey: `AUTHOR:${subject.authorId}`, authorId: subject.authorId };
  }
  if (subject.organizationId != null) {
    if (!(await subjectExists(db, 'organizations', subject.organizationId))) {
      throw new AppError('NOT_FOUND', 'No organization has this ID.', { field: 'organizationId' });
    }
    return { kind: 'ORGANIZATION', subjectKey: `ORGANIZATION:${subject.organizationId}`, organizationId: subject.organizationId };
  }
  if (subject.category != null) {
    const category = subject.category.trim();
    if (!isArxivCategory(category)) {
      throw badUserInput(`"${category.slice(0, 100)}" is not an arXiv category (such as cs.LG, hep-th or math.AG).`, { field: 'category' });
    }
    return { kind: 'CATEGORY', subjectKey: `CATEGORY:${category}`, value: category };
  }
  if (subject.keyword != null) return keywordFollow(subject.keyword);
  return searchFollow(db, subject.search!);
}

function keywordFollow(text: string): NewFollow {
  const keyword = text.trim().toLowerCase();
  if (keyword === '' || keyword.length > MAX_FOLLOWED_KEYWORD_LENGTH || /\p{Cc}/u.test(keyword) || hasLoneSurrogate(keyword)) {
    throw badUserInput(`A keyword is 1 to ${MAX_FOLLOWED_KEYWORD_LENGTH} characters, without control characters or lone surrogates.`, {
      field: 'keyword',
    });
  }
  return { kind: 'KEYWORD', subjectKey: `KEYWORD:${keyword}`, value: keyword };
}

/** The most characters of a text in a saved search's filter (an organization's name, a username, a keyword): it is stored with the follow. */
const MAX_SAVED_FILTER_TEXT_LENGTH = 500;

/**
 * A saved search's filter text (a string, or a list's entries) that cannot be
 * stored: longer than MAX_SAVED_FILTER_TEXT_LENGTH, or holding a lone
 * surrogate (as JSON it would fail the insert). BAD_USER_INPUT naming it.
 */
function refuseUnstorableFilterText(filter: PaperFilterValues | null | undefined) {
  for (const [key, value] of Object.entries(filter ?? {})) {
    const texts = (Array.isArray(value) ? value : [value]).filter((text): text is string => typeof text === 'string');
    if (texts.some((text) => text.length > MAX_SAVED_FILTER_TEXT_LENGTH)) {
      throw badUserInput(`Invalid ${key}: at most ${MAX_SAVED_FILTER_TEXT_LENGTH} characters in a saved search's filter.`, { field: key });
    }
    if (texts.some(hasLoneSurrogate)) throw badUserInput(`Invalid ${key}: not valid Unicode text (a lone surrogate).`, { field: key });
  }
}

async function searchFollow(db: Database, search: { query: string; filter?: PaperFilterValues | null }): Promise<NewFollow> {
  let query: string;
  try {
    query = normalizeSearchQuery(search.query);
  } catch (error) {
    throw error instanceof AppError ? badUserInput(error.message, { field: 'search.query' }) : error;
  }
  if (arxivIdInQuery(query)) {
    throw badUserInput('A saved search of an arXiv id would only ever find that paper: follow words, an author or a category instead.', {
      field: 'search.query',
    });
  }
  let stored: StoredFilter | null;
  try {
    // Checked as every list checks a filter (categories, list lengths).
    criteriaFromFilter(search.filter);
    refuseUnstorableFilterText(search.filter);
    stored = storedFilter(search.filter);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const field = typeof error.extensions.field === 'string' ? `search.filter.${error.extensions.field}` : 'search.filter';
    throw badUserInput(error.message, { field });
  }
  const searchQuery = savedSearchQuery(query);
  // Punctuation, operators or quotes alone ("!!!", "or", '""') make an empty full-text query: a follow that never matches.
  if ((await tsqueryNodeCount(db, searchQuery)) === 0) {
    throw badUserInput('This search has no word to match (only punctuation, operators or quotes): a saved search needs at least one word.', {
      field: 'search.query',
    });
  }
  const digest = createHash('sha256')
    .update(JSON.stringify([query, stored]))
    .digest('hex');
  return { kind: 'SEARCH', subjectKey: `SEARCH:${digest}`, value: query, searchFilter: stored, searchQuery };
}

/** Follows `subject` (idempotent: a second follow answers the first); the per-user cap applies. */
export async function follow(db: Database, userId: number, subject: FollowSubject, maxFollows: number, at: Date): Promise<FollowRow> {
  return insertFollow(db, userId, await followOf(db, subject), maxFollows, at);
}

/** Unfollows `subject` (idempotent); whether it was followed. An unknown author or organization is simply not followed. */
export async function unfollow(db: Database, userId: number, subject: FollowSubject): Promise<boolean> {
  const given = (Object.keys(subject) as (keyof FollowSubject)[]).filter((key) => subject[key] !== null && subject[key] !== undefined);
  if (given.length === 1 && subject.authorId != null) return deleteFollowBySubject(db, userId, `AUTHOR:${subject.authorId}`);
  if (given.length === 1 && subject.organizationId != null) return deleteFollowBySubject(db, userId, `ORGANIZATION:${subject.organizationId}`);
  return deleteFollowBySubject(db, userId, (await followOf(db, subject)).subjectKey);
}

export { deleteFollowById as unfollowById };

/** What a user follows, as the following feed reads it (one statement). */
export async function followedPapersOf(db: Database, userId: number): Promise<FollowedPapers> {
  const rows = await followsForFeed(db, userId);
  const values = (kind: FollowKind) => rows.filter((row) => row.kind === kind && row.value !== null).map((row) => row.value!);
  return followedBranches({
    authorIds: rows.flatMap((row) => (row.authorId === null ? [] : [row.authorId])),
    organizationIds: rows.flatMap((row) => (row.organizationId === null ? [] : [row.organizationId])),
    categories: values('CATEGORY'),
    keywords: values('KEYWORD'),
    searches: rows
      .filter((row) => row.kind === 'SEARCH' && row.searchQuery !== null)
      .map((row) => ({ query: row.searchQuery!, criteria: row.searchFilter == null ? {} : criteriaOfStoredFilter(row.searchFilter) })),
  });
}

/** The following feed: one page (see listFollowedPapers). */
export function followingFeed(db: Database, followed: FollowedPapers, criteria: PaperCriteria, request: PageRequest): Promise<Page<PaperRow>> {
  return listFollowedPapers(db, followed, criteria, request);
}

export const countFollowingFeed = countFollowedPapers;

export type { FollowKind };
