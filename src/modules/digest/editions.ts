import { isRealMoment } from '../../calendar';

export type DigestFrequency = 'DAILY' | 'WEEKLY';

/**
 * One issue of the digest. DAILY editions go out on weekdays and are named
 * by that date ("2025-11-12"); each covers the papers featured since the
 * previous weekday edition, so Monday's covers Friday to Sunday. WEEKLY
 * editions go out on Mondays and are named by the ISO week they cover
 * ("2025-W46", Monday to Monday).
 */
export interface DigestEdition {
  frequency: DigestFrequency;
  period: string;
  /** The papers featured within [from, until) (UTC) are the edition's candidates. */
  from: Date;
  until: Date;
}

const DAY_MS = 86_400_000;
const SUNDAY = 0;
const MONDAY = 1;
const SATURDAY = 6;

const midnightOf = (time: number) => Math.floor(time / DAY_MS) * DAY_MS;
const isoDate = (time: number) => new Date(time).toISOString().slice(0, 10);
const weekdayOf = (time: number) => new Date(time).getUTCDay();

/** The ISO week of a moment, as "YYYY-Www": the week's Thursday decides its year. */
export function isoWeekOf(time: number): string {
  const midnight = midnightOf(time);
  const thursday = midnight + (3 - ((weekdayOf(midnight) + 6) % 7)) * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * DAY_MS));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Midnight UTC starting the Monday of ISO week `week` of `year` (week 1 holds January 4th). */
function mondayOfIsoWeek(year: number, week: number): number {
  const january4 = Date.UTC(year, 0, 4);
  return january4 - ((weekdayOf(january4) + 6) % 7) * DAY_MS + (week - 1) * 7 * DAY_MS;
}

/** Midnight UTC starting a weekday given as YYYY-MM-DD; undefined for anything else. */
function weekdayMidnight(period: string): number | undefined {
  const fields = /^(\d{4})-(\d{2})-(\d{2})$/.exec(period)?.slice(1).map(Number);
  if (!fields || !isRealMoment(fields[0]!, fields[1]!, fields[2]!)) return undefined;
  const midnight = Date.UTC(fields[0]!, fields[1]! - 1, fields[2]!);
  const weekday = weekdayOf(midnight);
  return weekday === SATURDAY || weekday === SUNDAY ? undefined : midnight;
}

/** Midnight UTC starting an ISO week given as YYYY-Www; undefined for a week that does not exist. */
function weekMonday(period: string): number | undefined {
  const fields = /^(\d{4})-W(\d{2})$/.exec(period)?.slice(1).map(Number);
  if (!fields) return undefined;
  const monday = mondayOfIsoWeek(fields[0]!, fields[1]!);
  // Week 0, week 54 or a week 53 the year lacks name another week once computed.
  return isoWeekOf(monday) === period ? monday : undefined;
}

/** The edition named `period`, or undefined when `period` names none of that frequency. */
export function editionOf(frequency: DigestFrequency, period: string): DigestEdition | undefined {
  if (frequency === 'DAILY') {
    const until = weekdayMidnight(period);
    if (until === undefined) return undefined;
    const previousWeekday = weekdayOf(until) === MONDAY ? 3 : 1;
    return { frequency, period, from: new Date(until - previousWeekday * DAY_MS), until: new Date(until) };
  }
  const from = weekMonday(period);
  if (from === undefined) return undefined;
  return { frequency, period, from: new Date(from), until: new Date(from + 7 * DAY_MS) };
}

/**
 * The newest edition whose sending time (`hourUtc` on a weekday for DAILY,
 * on a Monday for WEEKLY) has come by `now`. A late or retried run thus
 * still sends the edition it was scheduled for, and a run after the next
 * sending time sends the next one.
 */
export function dueEdition(frequency: DigestFrequency, now: Date, hourUtc: number): DigestEdition {
  const today = midnightOf(now.getTime());
  let sendingDay = today + hourUtc * 3_600_000 <= now.getTime() ? today : today - DAY_MS;
  const isSendingDay = (day: number) =>
    frequency === 'WEEKLY' ? weekdayOf(day) === MONDAY : weekdayOf(day) !== SATURDAY && weekdayOf(day) !== SUNDAY;
  while (!isSendingDay(sendingDay)) sendingDay -= DAY_MS;
  const period = frequency === 'DAILY' ? isoDate(sendingDay) : isoWeekOf(sendingDay - 7 * DAY_MS);
  return editionOf(frequency, period)!;
}
