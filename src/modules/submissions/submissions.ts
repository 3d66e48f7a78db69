import { and, asc, count, eq, gte, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { DAY_MS, midnightOf } from '../../calendar';
import type { AppConfig } from '../../config';
import type { Database } from '../../db/client';
import { organizations, paperAuthors, paperColumns, papers, type PaperRow } from '../../db/schema';
import { AppError, badUserInput } from '../../errors';
import type { Logger } from '../../logger';
import { textSchema } from '../../text-input';
import { ArxivUnavailableError, fetchArxivEntry, type ArxivEntry } from '../papers/arxiv-api';
import { normalizeArxivId } from '../papers/arxiv-id';
import { findPaperByArxivId } from '../papers/papers.queries';
import { savePapers, type PaperRecord } from '../papers/save-papers';

/** submitPaper's input as the GraphQL layer hands it over: null and absent both mean "not given". */
export interface SubmitPaperInput {
  arxivId: string;
  title?: string | null;
  abstract?: string | null;
  authors?: readonly string[] | null;
  publishedAt?: Date | null;
  organization?: string | null;
  githubRepo?: string | null;
  projectPage?: string | null;
}

export interface Submitter {
  id: number;
  username: string;
}

export interface SubmissionDependencies {
  db: Database;
  config: AppConfig;
  logger: Logger;
}

export const SUBMISSION_LIMITS = {
  title: 1000,
  abstract: 100_000,
  authors: 500,
  authorName: 500,
  url: 2000,
  organization: 100,
} as const;

/** What a client is told to wait after a failed arXiv lookup when arXiv sent no Retry-After. */
const ARXIV_RETRY_AFTER_SECONDS = 30;

/** Arbitrary, fixed namespaces of the two-key advisory locks taken per submitter and per arXiv id. */
const SUBMITTER_LOCK = 1_935_828_301;
const ARXIV_ID_LOCK = 1_935_828_302;

const singleLine = (maxLength: number) => textSchema({ shape: 'line', maxLength });

/** A link a user gives (submitPaper, updatePaperLinks): one line, http(s). */
export const webUrl = singleLine(SUBMISSION_LIMITS.url).refine(isWebUrl, 'expected an http(s) URL, e.g. "https://github.com/owner/repo"');

const submissionSchema = z.object({
  arxivId: z
    .string()
    .trim()
    .transform((id, context) => {
      const normalized = normalizeArxivId(id);
      if (normalized === null) {
        context.addIssue({ code: 'custom', message: `"${id.slice(0, 50)}" is not a new-style arXiv id such as "2306.13229" or "2306.13229v2"` });
        return z.NEVER;
      }
      return normalized;
    }),
  title: singleLine(SUBMISSION_LIMITS.title).nullish(),
  abstract: textSchema({ shape: 'lines', maxLength: SUBMISSION_LIMITS.abstract }).nullish(),
  authors: z
    .array(singleLine(SUBMISSION_LIMITS.authorName))
    .min(1, 'give at least one name')
    .max(SUBMISSION_LIMITS.authors, `at most ${SUBMISSION_LIMITS.authors} names`)
    .nullish(),
  publishedAt: z.date().nullish(),
  organization: singleLine(SUBMISSION_LIMITS.organization).nullish(),
  githubRepo: webUrl.nullish(),
  projectPage: webUrl.nullish(),
});

type Submission = z.infer<typeof submissionSchema>;

function isWebUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Features a paper in Daily Papers on behalf of `submitter`. A paper not
 * stored yet is verified against arXiv first, whatever the input gives: an id
 * arXiv does not know is never featured. Title, abstract, authors and date
 * come from the stored paper, else from arXiv; the input's only fill what
 * arXiv's entry lacks (see submissionRecord). The lookup happens before any
 * write and outside the transaction, so a failed lookup writes nothing and a
 * slow one holds no lock.
 */
export async function submitPaper(
  { db, config, logger }: SubmissionDependencies,
  submitter: Submitter,
  input: SubmitPaperInput,
  now: Date,
): Promise<PaperRow> {
  const submission = parseSubmission(input);
  if (submission.publishedAt && submission.publishedAt.getTime() > now.getTime()) {
    throw badUserInput(`Invalid publishedAt: ${submission.publishedAt.toISOString()} is in the future.`, { field: 'publishedAt' });
  }
  const { arxivId } = submission;
  // Checked here so a doomed submission never waits for arXiv, and again under the locks.
  const known = await assertSubmittable(db, config, arxivId, submitter.id, now);
  const fetched = known ? null : await lookUpOnArxiv(config, logger, arxivId);

  return db.transaction(async (tx) => {
    // Submitter first, then paper, in every transaction: one submission per paper and per submitter at a time, no deadlock.
    await tx.execute(sql`select pg_advisory_xact_lock(${SUBMITTER_LOCK}::int, ${submitter.id}::int)`);
    await tx.execute(sql`select pg_advisory_xact_lock(${ARXIV_ID_LOCK}::int, hashtext(${arxivId}))`);
    await assertSubmittable(tx, config, arxivId, submitter.id, now);
    const stored = await findStoredPaper(tx, arxivId);
    // Papers are never deleted: one stored at the first check is still stored.
    if (!stored && !fetched) throw new Error(`${arxivId} was stored when first checked and is gone now`);
    const record = submissionRecord(submission, stored, fetched, submitter, now);
    assertWithinMaxAge(record, submission, config.submissions.maxAgeDays, now);
    await savePapers(tx, config.trending, [record]);
    return (await findPaperByArxivId(tx, arxivId))!;
  });
}

function parseSubmission(input: SubmitPaperInput): Submission {
  const parsed = submissionSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  const field = String(issue!.path[0]);
  const position = typeof issue!.path[1] === 'number' ? ` (name ${issue!.path[1] + 1})` : '';
  throw badUserInput(`Invalid ${field}${position}: ${issue!.message}.`, { field });
}

/**
 * CONFLICT when the paper is already featured; RATE_LIMITED when the
 * submitter used up today's submissions. Returns whether the paper is stored.
 */
async function assertSubmittable(db: Database, config: AppConfig, arxivId: string, submitterId: number, now: Date): Promise<boolean> {
  const [paper] = await db.select({ submittedAt: papers.submittedAt }).from(papers).where(eq(papers.arxivId, arxivId));
  if (paper?.submittedAt) {
    throw new AppError('CONFLICT', `${arxivId} is already in Daily Papers (featured on ${paper.submittedAt.toISOString().slice(0, 10)}).`, {
      field: 'arxivId',
    });
  }
  const dayStart = midnightOf(now.getTime());
  const [row] = await db
    .select({ submitted: count() })
    .from(papers)
    .where(and(eq(papers.submittedById, submitterId), gte(papers.submittedAt, new Date(dayStart)), lt(papers.submittedAt, new Date(dayStart + DAY_MS))));
  const limit = config.submissions.perUserPerDay;
  if ((row?.submitted ?? 0) >= limit) {
    const retryAfter = Math.ceil((dayStart + DAY_MS - now.getTime()) / 1000);
    throw new AppError(
      'RATE_LIMITED',
      `You have submitted ${limit} papers today, the most a day allows: submit again after midnight UTC, in ${formatDuration(retryAfter)}.`,
      { retryAfter, reason: 'DAILY_SUBMISSION_LIMIT' },
    );
  }
  return paper !== undefined;
}

/**
 * arXiv's entry for the paper; NOT_FOUND when arXiv has none. When arXiv
 * cannot answer, the error is RATE_LIMITED with a retryAfter and reason
 * ARXIV_UNAVAILABLE: the contract's codes are fixed, and "try again later"
 * is what the client can do about it.
 */
async function lookUpOnArxiv(config: AppConfig, logger: Logger, arxivId: string): Promise<ArxivEntry> {
  let entry: ArxivEntry | null;
  try {
    entry = await fetchArxivEntry(config.arxiv, arxivId);
  } catch (error) {
    if (!(error instanceof ArxivUnavailableError)) throw error;
    logger.warn({ err: error, arxivId }, 'arXiv lookup failed');
    throw arxivUnavailable(`Could not look ${arxivId} up on arXiv: ${error.message}.`, error.retryAfterSeconds);
  }
  if (!entry) throw new AppError('NOT_FOUND', `arXiv has no paper ${arxivId}: check the id.`, { field: 'arxivId' });
  return entry;
}

function arxivUnavailable(problem: string, retryAfterSeconds: number | null = null): AppError {
  const retryAfter = retryAfterSeconds ?? ARXIV_RETRY_AFTER_SECONDS;
  return new AppError('RATE_LIMITED', `${problem} Try again in ${formatDuration(retryAfter)}.`, { retryAfter, reason: 'ARXIV_UNAVAILABLE' });
}

interface StoredPaper {
  paper: PaperRow;
  organizationName: string | null;
  authors: { name: string; hidden: boolean }[];
}

async function findStoredPaper(db: Database, arxivId: string): Promise<StoredPaper | null> {
  const [row] = await db
    .select({ paper: paperColumns, organizationName: organizations.name })
    .from(papers)
    .leftJoin(organizations, eq(organizations.id, papers.organizationId))
    .where(eq(papers.arxivId, arxivId));
  if (!row) return null;
  const authors = await db
    .select({ name: paperAuthors.name, hidden: paperAuthors.hidden })
    .from(paperAuthors)
    .where(eq(paperAuthors.paperId, row.paper.id))
    .orderBy(asc(paperAuthors.position));
  return { ...row, authors };
}

/**
 * The paper as savePapers should store it. What describes the paper (title,
 * abstract, authors, date) comes from the stored paper, else from arXiv; the
 * client's values only fill what arXiv's entry lacks, so nobody can feature a
 * paper under a made-up title or rename a stored one. What the client adds
 * about where the work lives (organization, code, project page) wins over
 * what is stored. Everything else a stored paper has (keywords, imported
 * counts, summary, stars) is kept as it is.
 */
function submissionRecord(submission: Submission, stored: StoredPaper | null, fetched: ArxivEntry | null, submitter: Submitter, now: Date): PaperRecord {
  const title = stored?.paper.title ?? fetched?.title ?? submission.title;
  const abstract = stored?.paper.abstract ?? fetched?.abstract ?? submission.abstract;
  const authorNames = stored?.authors.map((author) => author.name) ?? fetched?.authors ?? submission.authors;
  const publishedAt = stored?.paper.publishedAt ?? fetched?.publishedAt ?? submission.publishedAt;
  if (title == null || abstract == null || authorNames == null || publishedAt == null) {
    const missing = Object.entries({ title, abstract, authors: authorNames, publishedAt })
      .filter(([, value]) => value == null)
      .map(([field]) => field);
    throw arxivUnavailable(
      `arXiv's entry for ${submission.arxivId} has no ${missing.join(', ')}: send ${missing.length === 1 ? 'it' : 'them'} with the submission.`,
    );
  }
  // An author who hid this paper from their page keeps it hidden.
  const hidden = new Set(stored?.authors.filter((author) => author.hidden).map((author) => author.name));
  const paper = stored?.paper;
  const organizationName = submission.organization ?? stored?.organizationName ?? null;
  return {
    arxivId: submission.arxivId,
    title,
    abstract,
    authors: authorNames.map((name) => ({ name, hidden: hidden.has(name) })),
    publishedAt,
    submittedAt: now,
    submittedBy: { username: submitter.username },
    organization: organizationName === null ? null : { name: organizationName },
    githubRepo: submission.githubRepo ?? paper?.githubRepo ?? null,
    githubStars: paper?.githubStars ?? null,
    projectPage: submission.projectPage ?? paper?.projectPage ?? null,
    thumbnailUrl: paper?.thumbnailUrl ?? null,
    aiSummary: paper?.aiSummary ?? null,
    keywords: paper?.keywords ?? [],
    // Looked up just now: arXiv's categories; a stored paper keeps its own (the categories job fills them).
    categories: fetched?.categories,
    upvoteBaseline: paper?.upvoteBaseline ?? 0,
    commentCount: paper?.commentBaseline ?? 0,
  };
}

/** A paper may be featured up to maxAgeDays after its arXiv date. */
function assertWithinMaxAge(record: PaperRecord, submission: Submission, maxAgeDays: number, now: Date) {
  // The client's date counts only where arXiv gave none (submissionRecord).
  const field = record.publishedAt === submission.publishedAt ? 'publishedAt' : 'arxivId';
  if (now.getTime() - record.publishedAt.getTime() > maxAgeDays * DAY_MS) {
    throw badUserInput(
      `${record.arxivId} appeared on arXiv on ${record.publishedAt.toISOString().slice(0, 10)}: papers may be submitted up to ${maxAgeDays} days after their arXiv date.`,
      { field },
    );
  }
}

/** "7 h 5 min", "45 s". */
function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const totalMinutes = Math.ceil(seconds / 60);
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  if (hours === 0) return `${minutes} min`;
  return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
}
