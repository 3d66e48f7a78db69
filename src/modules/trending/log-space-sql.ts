import { sql, type SQL } from 'drizzle-orm';
import { TRENDING_EPOCH_HOURS } from './trending-key';

/**
 * exp()'s argument is clamped to [EXP_FLOOR, EXP_CEILING], because Postgres
 * raises an error on exp() underflow as well as overflow. e^-700 is still a
 * normal double, and fewer than e^100 terms of at most e^600 cannot overflow
 * a sum.
 */
export const EXP_FLOOR = -700;
export const EXP_CEILING = 600;

export const clampedExp = (x: SQL) => sql`exp(least(greatest(${x}, ${sql.raw(String(EXP_FLOOR))}::float8), ${sql.raw(String(EXP_CEILING))}::float8))`;

/** Hours since the trending epoch of a timestamptz expression, as SQL (date_part gives the float8 that extract would give as numeric). */
export const hoursSql = (time: SQL) => sql`(date_part('epoch', ${time}) / 3600.0 - ${TRENDING_EPOCH_HOURS}::float8)`;
