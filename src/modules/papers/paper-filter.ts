import type { PaperCriteria } from './papers.queries';

/** The criteria of PaperFilter, as the `papers` list and the papers feed take them. */
export interface PaperFilterValues {
  authorId?: number | null;
  organization?: string | null;
  submittedBy?: string | null;
  publishedAfter?: Date | null;
  publishedBefore?: Date | null;
  keyword?: string | null;
}

export function criteriaFromFilter(filter: PaperFilterValues | null | undefined): PaperCriteria {
  return {
    authorId: filter?.authorId ?? undefined,
    organizationName: filter?.organization ?? undefined,
    submitterUsername: filter?.submittedBy ?? undefined,
    publishedAfter: filter?.publishedAfter ?? undefined,
    publishedBefore: filter?.publishedBefore ?? undefined,
    keyword: filter?.keyword ?? undefined,
  };
}
