import { eq, inArray, sql } from 'drizzle-orm';
import type { TrendingSettings } from '../../config';
import type { Database, Transaction } from '../../db/client';
import { authors, organizations, paperAuthors, papers, users } from '../../db/schema';
import { refreshOrganizationSearchDocuments, refreshSearchDocuments } from '../search/search-documents';
import { recomputeKeys } from '../trending/recompute';
import { trendingKey } from '../trending/trending-key';

/** A paper as a source (an import file, the demo generator) describes it. */
export interface PaperRecord {
  arxivId: string;
  title: string;
  abstract: string;
  publishedAt: Date;
  submittedAt: Date | null;
  submittedBy: { username: string; displayName?: string | null; avatarUrl?: string | null } | null;
  organization: { name: string; fullName?: string | null; avatarUrl?: string | null } | null;
  authors: { name: string; hidden?: boolean }[];
  githubRepo?: string | null;
  githubStars?: number | null;
  projectPage?: string | null;
  thumbnailUrl?: string | null;
  mediaUrls?: string[];
  /** When it was withdrawn from arXiv, if it was. */
  withdrawnAt?: Date | null;
  aiSummary?: string | null;
  keywords: string[];
  /** arXiv categories, the primary first, when the source took them from arXiv; left as stored when absent. */
  categories?: string[];
  /** Upvotes counted by the source, without voters. */
  upvoteBaseline: number;
  /** Comments counted by the source, without their text. */
  commentCount: number;
}

export interface SaveResult {
  /** Papers that were created or whose stored fields changed. */
  written: number;
  /** Papers already stored exactly as described. */
  unchanged: number;
  /** The id of each record's paper, in the order of the records. */
  paperIds: number[];
  /** The ids of the papers created, not those already stored (their followers' NEW_PAPER notifications are made from these). */
  newPaperIds: number[];
}

const BATCH_SIZE = 500;
const AUTHORSHIP_BATCH_SIZE = 10_000;

/**
 * Upserts papers with their authors, organization and submitter, keyed by
 * arXiv id. Saving the same records again changes nothing; saving changed
 * ones updates what the source owns and keeps local upvotes and comments.
 * Each arXiv id may appear once in `records` (callers report duplicates).
 */
export async function savePapers(db: Database, settings: TrendingSettings, records: readonly PaperRecord[]): Promise<SaveResult> {
  const result: SaveResult = { written: 0, unchanged: 0, paperIds: [], newPaperIds: [] };
  for (let offset = 0; offset < records.length; offset += BATCH_SIZE) {
    const batch = records.slice(offset, offset + BATCH_SIZE);
    const saved = await db.transaction((tx) => saveBatch(tx, settings, batch));
    result.written += saved.written;
    result.unchanged += saved.unchanged;
    result.paperIds.push(...saved.paperIds);
    result.newPaperIds.push(...saved.newPaperIds);
  }
  return result;
}

async function saveBatch(db: Transaction, settings: TrendingSettings, records: readonly PaperRecord[]): Promise<SaveResult> {
  const organizationIds = await saveOrganizations(db, records);
  const userIds = await saveSubmitters(db, records);
  const authorIds = await saveAuthors(db, records);
  const authorsChanged = await arxivIdsWithChangedAuthors(db, records);

  const rows = records.map((record) => ({
    arxivId: record.arxivId,
    title: record.title,
    abstract: record.abstract,
    publishedAt: record.publishedAt,
    submittedAt: record.submittedAt,
    submittedById: record.submittedBy ? (userIds.get(record.submittedBy.username.toLowerCase()) ?? null) : null,
    organizationId: record.organization ? (organizationIds.get(record.organization.name) ?? null) : null,
    githubRepo: record.githubRepo ?? null,
    githubStars: record.githubStars ?? null,
    projectPage: record.projectPage ?? null,
    thumbnailUrl: record.thumbnailUrl ?? null,
    mediaUrls: record.mediaUrls ?? [],
    withdrawnAt: record.withdrawnAt ?? null,
    aiSummary: record.aiSummary ?? null,
    keywords: [...new Set(record.keywords.map((keyword) => keyword.trim().toLowerCase()).filter(Boolean))],
    categories: record.categories ?? [],
    categoriesCheckedAt: record.categories ? sql`now()` : null,
    upvoteBaseline: record.upvoteBaseline,
    upvoteCount: record.upvoteBaseline,
    commentBaseline: record.commentCount,
    commentCount: record.commentCount,
    trendingKey: trendingKey({ start: record.submittedAt ?? record.publishedAt, baseline: record.upvoteBaseline, voteTimes: [] }, settings),
  }));

  const sourceColumns = [
    'title',
    'abstract',
    'published_at',
    'submitted_at',
    'submitted_by_id',
    'organization_id',
    'github_stars',
    'thumbnail_url',
    'media_urls',
    'withdrawn_at',
    'ai_summary',
    'keywords',
    'upvote_baseline',
    'comment_baseline',
  ] as const;
  // The source's links, unless the submitter or a verified author set their own (updatePaperLinks).
  const linkColumns = ['github_repo', 'project_page'] as const;
  const changed = sql.join(
    [
      ...sourceColumns.map((column) => sql`papers.${sql.identifier(column)} is distinct from excluded.${sql.identifier(column)}`),
      ...linkColumns.map(
        (column) => sql`(papers.links_edited_at is null and papers.${sql.identifier(column)} is distinct from excluded.${sql.identifier(column)})`,
      ),
      sql`(excluded.categories_checked_at is not null and papers.categories is distinct from excluded.categories)`,
      // The authors live in paper_authors, outside the row: a change there alone must still rewrite the paper.
      ...(authorsChanged.length > 0 ? [inArray(papers.arxivId, authorsChanged)] : []),
    ],
    sql` or `,
  );
  const written = await db
    .insert(papers)
    .values(rows)
    .onConflictDoUpdate({
      target: papers.arxivId,
      set: {
        ...Object.fromEntries(sourceColumns.map((column) => [toCamel(column), sql.raw(`excluded.${column}`)])),
        ...Object.fromEntries(
          linkColumns.map((column) => [
            toCamel(column),
            sql.raw(`case when papers.links_edited_at is null then excluded.${column} else papers.${column} end`),
          ]),
        ),
        // A record without categories (an import) keeps those arXiv gave.
        categories: sql`case when excluded.categories_checked_at is null then papers.categories else excluded.categories end`,
        categoriesCheckedAt: sql`coalesce(excluded.categories_checked_at, papers.categories_checked_at)`,
        // Local votes stay: the count is the new baseline plus the vote rows.
        upvoteCount: sql`excluded.upvote_baseline + (select count(*)::int from upvotes where upvotes.paper_id = papers.id)`,
        commentCount: sql`excluded.comment_baseline + (select count(*)::int from comments where comments.paper_id = papers.id and comments.deleted_at is null)`,
        updatedAt: sql`now()`,
      },
      setWhere: changed,
    })
    // xmax is 0 on a row this statement inserted, and the updating transaction's id on one it updated.
    .returning({ id: papers.id, arxivId: papers.arxivId, created: sql<boolean>`xmax = 0` });

  const idByArxivId = new Map(written.map((row) => [row.arxivId, row.id]));
  const writtenRecords = records.filter((record) => idByArxivId.has(record.arxivId));
  await saveAuthorships(db, writtenRecords, idByArxivId, authorIds);
  await refreshSearchDocuments(db, [...idByArxivId.values()]);
  if (written.length > 0) {
    await recomputeKeys(db, settings, [...idByArxivId.values()]);
  }

  const stored = await db
    .select({ id: papers.id, arxivId: papers.arxivId })
    .from(papers)
    .where(
      inArray(
        papers.arxivId,
        records.map((record) => record.arxivId),
      ),
    );
  // In the order of the records: a scan returns rows in whatever order the table holds them.
  const storedIdOf = new Map(stored.map((row) => [row.arxivId, row.id]));
  return {
    written: written.length,
    unchanged: records.length - written.length,
    paperIds: records.map((record) => storedIdOf.get(record.arxivId)!),
    newPaperIds: written.filter((row) => row.created).map((row) => row.id),
  };
}

function toCamel(column: string): string {
  return column.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

async function saveOrganizations(db: Database, records: readonly PaperRecord[]): Promise<Map<string, number>> {
  const byName = new Map(records.flatMap((record) => (record.organization ? [[record.organization.name, record.organization]] : [])));
  if (byName.size === 0) return new Map();
  // Their names are in their papers' search documents: a changed full name rebuilds those.
  const before = await db
    .select({ id: organizations.id, fullName: organizations.fullName })
    .from(organizations)
    .where(inArray(organizations.name, [...byName.keys()]));
  const saved = await db
    .insert(organizations)
    .values([...byName.values()].map((org) => ({ name: org.name, fullName: org.fullName ?? null, avatarUrl: org.avatarUrl ?? null })))
    .onConflictDoUpdate({
      target: organizations.name,
      set: {
        fullName: sql`coalesce(excluded.full_name, organizations.full_name)`,
        avatarUrl: sql`coalesce(excluded.avatar_url, organizations.avatar_url)`,
      },
    })
    .returning({ id: organizations.id, name: organizations.name, fullName: organizations.fullName });
  const fullNameBefore = new Map(before.map((row) => [row.id, row.fullName]));
  await refreshOrganizationSearchDocuments(
    db,
    saved.filter((row) => fullNameBefore.has(row.id) && fullNameBefore.get(row.id) !== row.fullName).map((row) => row.id),
  );
  return new Map(saved.map((row) => [row.name, row.id]));
}

/**
 * Submitters are matched by username regardless of case. Their display name
 * and avatar fill in what an account lacks but never overwrite what it has.
 * Keyed by the lower-cased username.
 */
async function saveSubmitters(db: Database, records: readonly PaperRecord[]): Promise<Map<string, number>> {
  const byUsername = new Map<string, { username: string; displayName: string | null; avatarUrl: string | null }>();
  for (const { submittedBy } of records) {
    if (!submittedBy) continue;
    const key = submittedBy.username.toLowerCase();
    const known = byUsername.get(key);
    byUsername.set(key, {
      username: known?.username ?? submittedBy.username,
      displayName: known?.displayName ?? submittedBy.displayName ?? null,
      avatarUrl: known?.avatarUrl ?? submittedBy.avatarUrl ?? null,
    });
  }
  if (byUsername.size === 0) return new Map();
  const submitters = [...byUsername.values()];
  await db.insert(users).values(submitters).onConflictDoNothing();
  await db.execute(sql`
    update users set
      display_name = coalesce(users.display_name, source.display_name),
      avatar_url = coalesce(users.avatar_url, source.avatar_url)
    from unnest(
      ${sql.param(submitters.map((user) => user.username))}::text[],
      ${sql.param(submitters.map((user) => user.displayName))}::text[],
      ${sql.param(submitters.map((user) => user.avatarUrl))}::text[]
    ) as source(username, display_name, avatar_url)
    where lower(users.username) = lower(source.username)
      and ((users.display_name is null and source.display_name is not null)
        or (users.avatar_url is null and source.avatar_url is not null))
  `);
  const saved = await db
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(inArray(sql`lower(${users.username})`, [...byUsername.keys()]));
  return new Map(saved.map((row) => [row.username.toLowerCase(), row.id]));
}

async function saveAuthors(db: Database, records: readonly PaperRecord[]): Promise<Map<string, number>> {
  const names = [...new Set(records.flatMap((record) => record.authors.map((author) => author.name)))];
  if (names.length === 0) return new Map();
  await db
    .insert(authors)
    .values(names.map((name) => ({ name })))
    .onConflictDoNothing();
  const saved = await db.select({ id: authors.id, name: authors.name }).from(authors).where(inArray(authors.name, names));
  return new Map(saved.map((row) => [row.name, row.id]));
}

/** Stored papers among `records` whose authors (names, order, hidden flags) differ from the record's. */
async function arxivIdsWithChangedAuthors(db: Database, records: readonly PaperRecord[]): Promise<string[]> {
  const rows = await db
    .select({ arxivId: papers.arxivId, name: paperAuthors.name, hidden: paperAuthors.hidden })
    .from(papers)
    .leftJoin(paperAuthors, eq(paperAuthors.paperId, papers.id))
    .where(
      inArray(
        papers.arxivId,
        records.map((record) => record.arxivId),
      ),
    )
    .orderBy(papers.arxivId, paperAuthors.position);
  const storedAuthors = new Map<string, { name: string; hidden: boolean }[]>();
  for (const row of rows) {
    const list = storedAuthors.get(row.arxivId) ?? [];
    if (row.name !== null) list.push({ name: row.name, hidden: row.hidden ?? false });
    storedAuthors.set(row.arxivId, list);
  }
  return records
    .filter((record) => {
      const stored = storedAuthors.get(record.arxivId);
      const described = record.authors.map((author) => ({ name: author.name, hidden: author.hidden ?? false }));
      return stored !== undefined && JSON.stringify(stored) !== JSON.stringify(described);
    })
    .map((record) => record.arxivId);
}

async function saveAuthorships(
  db: Database,
  records: readonly PaperRecord[],
  idByArxivId: Map<string, number>,
  authorIds: Map<string, number>,
): Promise<void> {
  const paperIds = records.map((record) => idByArxivId.get(record.arxivId)!);
  if (paperIds.length === 0) return;
  await db.delete(paperAuthors).where(inArray(paperAuthors.paperId, paperIds));
  const rows = records.flatMap((record) =>
    record.authors.map((author, position) => ({
      paperId: idByArxivId.get(record.arxivId)!,
      position,
      authorId: authorIds.get(author.name)!,
      name: author.name,
      hidden: author.hidden ?? false,
    })),
  );
  // Five parameters a row; Postgres takes at most 65,535 a statement.
  for (let offset = 0; offset < rows.length; offset += AUTHORSHIP_BATCH_SIZE) {
    await db.insert(paperAuthors).values(rows.slice(offset, offset + AUTHORSHIP_BATCH_SIZE));
  }
}
