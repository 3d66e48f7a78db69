import { customType } from 'drizzle-orm/pg-core';

/** Postgres's full-text document type; read and written only in SQL. */
export const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** A full-text query, as stored for a saved search (follows.search_query). */
export const tsquery = customType<{ data: string }>({ dataType: () => 'tsquery' });
