import { and, count, eq, isNull } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { organizations, papers, type OrganizationRow } from '../../db/schema';

export async function findOrganizationsByIds(db: Database, ids: readonly number[]): Promise<OrganizationRow[]> {
  return db.select().from(organizations).where(idIn(organizations.id, ids));
}

export async function findOrganizationByName(db: Database, name: string): Promise<OrganizationRow | undefined> {
  const [organization] = await db.select().from(organizations).where(eq(organizations.name, name));
  return organization;
}

/** Papers per organization (withdrawn ones left out, as in its list), keyed by organization id. */
export async function countPapersOfOrganizations(db: Database, organizationIds: readonly number[]): Promise<Map<number, number>> {
  const rows = await db
    .select({ organizationId: papers.organizationId, total: count() })
    .from(papers)
    .where(and(idIn(papers.organizationId, organizationIds), isNull(papers.withdrawnAt)))
    .groupBy(papers.organizationId);
  return new Map(rows.map((row) => [row.organizationId!, row.total]));
}
