import { customType } from 'drizzle-orm/pg-core';

/** Postgres's full-text document type; read and written only in SQL. */
export const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });
