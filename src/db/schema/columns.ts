import { timestamp } from 'drizzle-orm/pg-core';

/**
 * Every timestamp is stored with millisecond precision: JavaScript dates carry
 * no more, so a keyset cursor built from a row compares equal to the row.
 */
export const timestampMs = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });
