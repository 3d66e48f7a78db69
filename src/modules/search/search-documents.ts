import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client';

/**
 * Rebuilds the weighted search document of the given papers: title (A),
 * keywords (B), abstract (C) with English stemming, and author names (D)
 * unstemmed. It spans two tables, so the writers call this after saving
 * authors rather than relying on a generated column.
 */
export async function refreshSearchDocuments(db: Database, paperIds: readonly number[]): Promise<void> {
  if (paperIds.length === 0) return;
  await db.execute(sql`
    update papers p set search_vector =
      setweight(to_tsvector('english', p.title), 'A')
      || setweight(to_tsvector('english', array_to_string(p.keywords, ' ')), 'B')
      || setweight(to_tsvector('english', p.abstract), 'C')
      || setweight(to_tsvector('simple', coalesce(
           (select string_agg(pa.name, ' ' order by pa.position) from paper_authors pa where pa.paper_id = p.id), '')), 'D')
    where p.id = any(${sql.param(paperIds)}::int[])
  `);
}
