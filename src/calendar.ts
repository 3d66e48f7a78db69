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
