import { badUserInput } from './errors';

const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;
const isoWeek = /^(\d{4})-W(\d{2})$/;

export const HOUR_MS = 3_600_000;
/** A UTC day: every date and week here is UTC, so no day is 23 or 25 hours. */
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

/** Midnight UTC starting the day of `time` (epoch milliseconds). */
export const midnightOf = (time: number): number => Math.floor(time / DAY_MS) * DAY_MS;

/** 0 for Sunday to 6 for Saturday, in UTC. */
export const weekdayOf = (time: number): number => new Date(time).getUTCDay();

/** The ISO week of a moment, as "YYYY-Www": the week's Thursday decides its year. */
export function isoWeekOf(time: number): string {
  const midnight = midnightOf(time);
  const thursday = midnight + (3 - ((weekdayOf(midnight) + 6) % 7)) * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - utcMidnight(year, 1, 1)) / WEEK_MS);
  return `${String(year).padStart(4, '0')}-W${String(week).padStart(2, '0')}`;
}

/**
 * Midnight UTC starting the Monday of an ISO week given as "YYYY-Www" (weeks
 * start on Monday; week 1 holds January 4th), or undefined for anything else,
 * including week 0, week 54 and a week 53 the year lacks.
 */
export function isoWeekMonday(week: string): number | undefined {
  const fields = isoWeek.exec(week)?.slice(1, 3).map(Number);
  if (!fields) return undefined;
  const january4 = utcMidnight(fields[0]!, 1, 4);
  const monday = january4 - ((weekdayOf(january4) + 6) % 7) * DAY_MS + (fields[1]! - 1) * WEEK_MS;
  // A week the year lacks names another week once computed.
  return isoWeekOf(monday) === week ? monday : undefined;
}

/** Whether the fields name a real calendar moment (no 30 February, no 24:00). */
export function isRealMoment(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): boolean {
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  time.setUTCFullYear(year);
  return (
    time.getUTCFullYear() === year &&
    time.getUTCMonth() === month - 1 &&
    time.getUTCDate() === day &&
    time.getUTCHours() === hour &&
    time.getUTCMinutes() === minute &&
    time.getUTCSeconds() === second
  );
}

/** Midnight UTC starting a real date given as YYYY-MM-DD, or undefined for anything else. */
export function dateMidnight(date: string): number | undefined {
  const fields = isoDate.exec(date)?.slice(1, 4).map(Number);
  if (!fields || !isRealMoment(fields[0]!, fields[1]!, fields[2]!)) return undefined;
  return utcMidnight(fields[0]!, fields[1]!, fields[2]!);
}

/** Like Date.UTC, but years 0 to 99 stay as written (Date.UTC reads 50 as 1950). */
function utcMidnight(year: number, month: number, day: number): number {
  return new Date(0).setUTCFullYear(year, month - 1, day);
}

/** The years the database and the feeds' windows can hold. */
export const YEARS = { first: 1000, last: 9998 };

/** The value as a string, or BAD_USER_INPUT saying what was expected. */
export function stringOf(value: unknown, expected: string): string {
  if (typeof value !== 'string') throw badUserInput(`Expected ${expected}, got ${JSON.stringify(value) ?? String(value)}.`);
  return value;
}

/** Validates a calendar date in YYYY-MM-DD form (2025-02-30 is rejected). */
export function parseCalendarDate(value: unknown): string {
  const text = stringOf(value, 'a date as YYYY-MM-DD, e.g. "2025-11-12"');
  const fields = isoDate.exec(text)?.slice(1, 4).map(Number);
  if (!fields || !isRealMoment(fields[0]!, fields[1]!, fields[2]!)) {
    throw badUserInput(`"${text}" is not a date as YYYY-MM-DD, e.g. "2025-11-12".`);
  }
  if (fields[0]! < YEARS.first || fields[0]! > YEARS.last) {
    throw badUserInput(`"${text}" is out of range: use a date in the years ${YEARS.first} to ${YEARS.last}.`);
  }
  return text;
}

const isoDateTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Validates an ISO-8601 date-time with a time zone, in the years the database holds. */
export function parseDateTime(value: unknown): Date {
  const text = stringOf(value, 'an ISO-8601 date-time with a time zone, e.g. "2025-11-12T08:30:00Z"');
  const fields = isoDateTime
    .exec(text)
    ?.slice(1, 7)
    .map((field) => Number(field ?? 0));
  const time = new Date(text);
  if (!fields || !isRealMoment(...(fields as [number, number, number, number, number, number])) || Number.isNaN(time.getTime())) {
    throw badUserInput(`"${text}" is not an ISO-8601 date-time with a time zone, e.g. "2025-11-12T08:30:00Z".`);
  }
  if (time.getUTCFullYear() < YEARS.first || time.getUTCFullYear() > YEARS.last) {
    throw badUserInput(`"${text}" is out of range: use a time in the years ${YEARS.first} to ${YEARS.last}.`);
  }
  return time;
}
