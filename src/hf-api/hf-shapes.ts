import type { OrganizationRow, PaperRow, UserProfile } from '../db/schema';

/**
 * Hugging Face's JSON shapes for papers, as /api/daily_papers, /api/papers/{id}
 * and /api/papers/search answer them (huggingface_hub reads them as PaperInfo,
 * PaperAuthor, User and Organization). Only what this API stores is filled
 * in: HF's own ids (`_id`, `discussionId`), `mediaUrls`, author accounts and
 * claim status, `isPro` and the like are left out. A value this API does not
 * know is null, as HF's are when missing.
 */

export interface HfAuthor {
  name: string;
  hidden: boolean;
}

/** A user as item.submittedBy names it (`name`); paper.submittedOnDailyBy names it `user`. */
export interface HfSubmitter {
  name: string;
  fullname: string | null;
  avatarUrl: string | null;
  type: 'user';
}

export interface HfDailySubmitter extends Omit<HfSubmitter, 'name'> {
  user: string;
}

export interface HfOrganization {
  name: string;
  fullname: string | null;
  avatar: string | null;
}

/** A paper (the `paper` of a daily-papers item). */
export interface HfPaper {
  id: string;
  authors: HfAuthor[];
  /** arXiv publication time. */
  publishedAt: string;
  /** When it was featured in Daily Papers; null if never. */
  submittedOnDailyAt: string | null;
  submittedOnDailyBy: HfDailySubmitter | null;
  title: string;
  summary: string;
  upvotes: number;
  githubRepo: string | null;
  githubStars: number | null;
  projectPage: string | null;
  ai_summary: string | null;
  ai_keywords: string[];
  organization: HfOrganization | null;
}

/** GET /api/papers/{id} and the list of GET /api/papers: the paper with its comment count. */
export interface HfPaperPage extends HfPaper {
  numComments: number;
}

/** One item of GET /api/daily_papers (and of GET /api/papers/search). */
export interface HfDailyPaper {
  paper: HfPaper;
  /** When the paper was featured (its arXiv time if never). */
  publishedAt: string;
  title: string;
  summary: string;
  thumbnail: string | null;
  numComments: number;
  submittedBy: HfSubmitter | null;
  organization: HfOrganization | null;
}

/** A paper row with the records it refers to, as read for a page. */
export interface PaperWithRelations {
  paper: PaperRow;
  authors: HfAuthor[];
  organization: OrganizationRow | null;
  submitter: UserProfile | null;
}

const organizationOf = (organization: OrganizationRow | null): HfOrganization | null =>
  organization && { name: organization.name, fullname: organization.fullName, avatar: organization.avatarUrl };

const submitterOf = (user: UserProfile | null): HfSubmitter | null =>
  user && { name: user.username, fullname: user.displayName, avatarUrl: user.avatarUrl, type: 'user' };

export function hfPaper({ paper, authors, organization, submitter }: PaperWithRelations): HfPaper {
  return {
    id: paper.arxivId,
    authors,
    publishedAt: paper.publishedAt.toISOString(),
    submittedOnDailyAt: paper.submittedAt?.toISOString() ?? null,
    submittedOnDailyBy: submitter && { user: submitter.username, fullname: submitter.displayName, avatarUrl: submitter.avatarUrl, type: 'user' },
    title: paper.title,
    summary: paper.abstract,
    upvotes: paper.upvoteCount,
    githubRepo: paper.githubRepo,
    githubStars: paper.githubStars,
    projectPage: paper.projectPage,
    ai_summary: paper.aiSummary,
    ai_keywords: paper.keywords,
    organization: organizationOf(organization),
  };
}

export function hfPaperPage(paper: PaperWithRelations): HfPaperPage {
  return { ...hfPaper(paper), numComments: paper.paper.commentCount };
}

export function hfDailyPaper(paper: PaperWithRelations): HfDailyPaper {
  const row = paper.paper;
  return {
    paper: hfPaper(paper),
    publishedAt: (row.submittedAt ?? row.publishedAt).toISOString(),
    title: row.title,
    summary: row.abstract,
    thumbnail: row.thumbnailUrl,
    numComments: row.commentCount,
    submittedBy: submitterOf(paper.submitter),
    organization: organizationOf(paper.organization),
  };
}
