import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';

/**
 * Rebuilds the weighted search document of the given papers: title (A),
 * keywords (B), abstract (C) with English stemming, and the names (D)
 * unstemmed: the authors' and the organization's (handle and full name), all
 * with accents folded (unaccent: "Schrödinger" is indexed as "schrodinger"). It
 * spans three tables, so the writers call this after saving authors rather
 * than relying on a generated column. Keep in step with the backfill in the
 * search_fields migration.
 */
export async function refreshSearchDocuments(db: Database, paperIds: readonly number[]): Promise<void> {
  if (paperIds.length === 0) return;
  await rebuildSearchDocuments(db, sql`p.id = any(${sql.param(paperIds)}::int[])`);
}

/** Rebuilds the search documents of every paper of these organizations (their names are part of it). */
export async function refreshOrganizationSearchDocuments(db: Database, organizationIds: readonly number[]): Promise<void> {
  if (organizationIds.length === 0) return;
  await rebuildSearchDocuments(db, sql`p.organization_id = any(${sql.param(organizationIds)}::int[])`);
}

async function rebuildSearchDocuments(db: Database, which: SQL): Promise<void> {
  await db.execute(sql`
    update papers p set search_vector =
      setweight(to_tsvector('english', unaccent(p.title)), 'A')
      || setweight(to_tsvector('english', unaccent(array_to_string(p.keywords, ' '))), 'B')
      || setweight(to_tsvector('english', unaccent(p.abstract)), 'C')
      || setweight(to_tsvector('simple', unaccent(coalesce(
           (select string_agg(pa.name, ' ' order by pa.position) from paper_authors pa where pa.paper_id = p.id), '')
           || ' ' || coalesce((select o.name || ' ' || coalesce(o.full_name, '') from organizations o where o.id = p.organization_id), ''))), 'D')
    where ${which}
  `);
}
