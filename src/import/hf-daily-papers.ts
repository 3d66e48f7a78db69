import { z } from 'zod';
import type { TrendingSettings } from '../config';
import type { Database } from '../db/client';
import { YEARS } from '../calendar';
import { normalizeArxivId } from '../modules/papers/arxiv-id';
import { savePapers, type PaperRecord } from '../modules/papers/save-papers';

/** Something wrong with one item of the file (`index` into the array), or with the whole file (no `index`). */
export interface ImportProblem {
  index?: number;
  arxivId?: string;
  message: string;
}

export interface ParsedDailyPapers {
  records: PaperRecord[];
  problems: ImportProblem[];
}

export interface DailyPapersImport {
  /** Papers created or changed. */
  imported: number;
  /** Papers already stored exactly as the file describes them. */
  unchanged: number;
  /** The ids of the papers created or changed. */
  newPaperIds: number[];
  problems: ImportProblem[];
}

/** Trims strings and reads a blank one as absent. */
const blankAsNull = (value: unknown) => (typeof value === 'string' ? value.trim() || null : value);

const requiredError = (issue: { input?: unknown }) => (issue.input == null ? 'required' : undefined);

// Bounds that keep every value storable: Postgres text holds no NUL, a btree entry
// (author and organization names are unique) at most about 2.7 kB, an integer 2^31-1.
const TEXT_LIMIT = 100_000;
const NAME_LIMIT = 500;
const URL_LIMIT = 2000;
const MEDIA_LIMIT = 50;
const storableText = (limit: number) =>
  z
    .string({ error: requiredError })
    .max(limit, `at most ${limit} characters`)
    .refine((text) => !text.includes('\u0000'), 'contains a NUL character');

const requiredText = z.preprocess(blankAsNull, storableText(TEXT_LIMIT));
const optionalText = z.preprocess(blankAsNull, storableText(TEXT_LIMIT).nullish());
const requiredName = z.preprocess(blankAsNull, storableText(NAME_LIMIT));
const optionalName = z.preprocess(blankAsNull, storableText(NAME_LIMIT).nullish());
const timeError = (issue: { input?: unknown }) => requiredError(issue) ?? 'expected an ISO 8601 date-time with a time zone';
const isoTime = z.iso
  .datetime({ offset: true, error: timeError })
  .transform((value) => new Date(value))
  .refine(
    (time) => time.getUTCFullYear() >= YEARS.first && time.getUTCFullYear() <= YEARS.last,
    `expected a time in the years ${YEARS.first} to ${YEARS.last}`,
  );
const requiredTime = z.preprocess(blankAsNull, isoTime);
const optionalTime = z.preprocess(blankAsNull, isoTime.nullish());
const count = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 31 - 1)
  .nullish();

const arxivId = requiredText.transform((id, context) => {
  const normalized = normalizeArxivId(id);
  if (normalized === null) {
    context.issues.push({ code: 'custom', input: id, message: `"${id}" is not a new-style arXiv id such as 2306.13229` });
    return z.NEVER;
  }
  return normalized;
});

const organization = z.object({ name: optionalName, fullname: optionalText, avatar: optionalText }).nullish();

/** item.submittedBy names the user `name`; paper.submittedOnDailyBy names it `user`. */
const submitter = z.object({ name: optionalName, user: optionalName, fullname: optionalText, avatarUrl: optionalText }).nullish();

type Organization = z.infer<typeof organization>;
type Submitter = z.infer<typeof submitter>;

/** One item of the Hugging Face /api/daily_papers response, read as a PaperRecord. Unknown fields are ignored. */
export const dailyPapersItemSchema = z
  .object({
    paper: z.object(
      {
        id: arxivId,
        title: requiredText,
        summary: optionalText,
        authors: z.array(z.object({ name: requiredName, hidden: z.boolean().nullish() })).nullish(),
        publishedAt: requiredTime,
        submittedOnDailyAt: optionalTime,
        submittedOnDailyBy: submitter,
        upvotes: count,
        githubRepo: optionalText,
        mediaUrls: z.array(z.unknown()).nullish(),
        withdrawnAt: optionalTime,
        githubStars: count,
        projectPage: optionalText,
        ai_summary: optionalText,
        ai_keywords: z.array(storableText(NAME_LIMIT)).nullish(),
        organization,
      },
      { error: requiredError },
    ),
    thumbnail: optionalText,
    numComments: count,
    submittedBy: submitter,
    organization,
  })
  .transform(
    ({ paper, ...item }): PaperRecord => ({
      arxivId: paper.id,
      title: paper.title,
      abstract: paper.summary ?? '',
      publishedAt: paper.publishedAt,
      submittedAt: paper.submittedOnDailyAt ?? null,
      submittedBy: toSubmitter(item.submittedBy) ?? toSubmitter(paper.submittedOnDailyBy),
      organization: toOrganization(item.organization) ?? toOrganization(paper.organization),
      authors: (paper.authors ?? []).map((author) => ({ name: author.name, hidden: author.hidden ?? false })),
      githubRepo: paper.githubRepo ?? null,
      githubStars: paper.githubStars ?? null,
      projectPage: paper.projectPage ?? null,
      thumbnailUrl: item.thumbnail ?? null,
      mediaUrls: webUrls(paper.mediaUrls ?? []),
      withdrawnAt: paper.withdrawnAt ?? null,
      aiSummary: paper.ai_summary ?? null,
      keywords: paper.ai_keywords ?? [],
      upvoteBaseline: paper.upvotes ?? 0,
      commentCount: item.numComments ?? 0,
    }),
  );

/** Media shown with a paper: the http(s) URLs among them, each once, at most MEDIA_LIMIT; anything else is dropped, not the paper. */
function webUrls(values: readonly unknown[]): string[] {
  const urls = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string' || value.length > URL_LIMIT || value.includes('\u0000')) continue;
    try {
      const url = new URL(value.trim());
      if (url.protocol === 'https:' || url.protocol === 'http:') urls.add(url.href);
    } catch {
      // Not a URL: dropped.
    }
  }
  return [...urls].slice(0, MEDIA_LIMIT);
}

function toSubmitter(user: Submitter): PaperRecord['submittedBy'] {
  const username = user?.name ?? user?.user;
  return username ? { username, displayName: user?.fullname ?? null, avatarUrl: user?.avatarUrl ?? null } : null;
}

function toOrganization(org: Organization): PaperRecord['organization'] {
  return org?.name ? { name: org.name, fullName: org.fullname ?? null, avatarUrl: org.avatar ?? null } : null;
}

/**
 * Reads a /api/daily_papers response. Invalid items and repeats of an arXiv
 * id already read are reported by their index and skipped; the rest are
 * returned.
 */
export function parseDailyPapersItems(json: unknown): ParsedDailyPapers {
  if (!Array.isArray(json)) {
    return { records: [], problems: [{ message: `expected a JSON array of daily-papers items, got ${describeValue(json)}` }] };
  }
  const records: PaperRecord[] = [];
  const problems: ImportProblem[] = [];
  const firstIndexByArxivId = new Map<string, number>();
  json.forEach((item: unknown, index) => {
    const parsed = dailyPapersItemSchema.safeParse(item);
    if (!parsed.success) {
      problems.push({ index, arxivId: rawArxivId(item), message: describeIssues(parsed.error.issues) });
      return;
    }
    const record = parsed.data;
    const firstIndex = firstIndexByArxivId.get(record.arxivId);
    if (firstIndex !== undefined) {
      problems.push({ index, arxivId: record.arxivId, message: `duplicate of item ${firstIndex}, which is kept` });
      return;
    }
    firstIndexByArxivId.set(record.arxivId, index);
    records.push(record);
  });
  return { records, problems };
}

/** Parses the response and saves its valid papers. */
export async function importDailyPapers(db: Database, settings: TrendingSettings, json: unknown): Promise<DailyPapersImport> {
  const { records, problems } = parseDailyPapersItems(json);
  const saved = await savePapers(db, settings, records);
  return { imported: saved.written, unchanged: saved.unchanged, newPaperIds: saved.newPaperIds, problems };
}

function rawArxivId(item: unknown): string | undefined {
  const id = (item as { paper?: { id?: unknown } | null } | null)?.paper?.id;
  return typeof id === 'string' && id.trim() !== '' ? id.trim() : undefined;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${describePath(issue.path)}: ${issue.message}`).join('; ');
}

/** ["paper", "authors", 2, "name"] -> "paper.authors[2].name" */
function describePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'item';
  return path.map((key, position) => (typeof key === 'number' ? `[${key}]` : `${position === 0 ? '' : '.'}${String(key)}`)).join('');
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
