import { badUserInput } from './errors';

const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;

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
