import { dateMidnight, DAY_MS, HOUR_MS, isoWeekMonday, isoWeekOf, midnightOf, WEEK_MS, weekdayOf } from '../../calendar';

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

const SUNDAY = 0;
const MONDAY = 1;
const SATURDAY = 6;

const isoDate = (time: number) => new Date(time).toISOString().slice(0, 10);

/** Midnight UTC starting a weekday given as YYYY-MM-DD; undefined for anything else. */
function weekdayMidnight(period: string): number | undefined {
  const midnight = dateMidnight(period);
  if (midnight === undefined) return undefined;
  const weekday = weekdayOf(midnight);
  return weekday === SATURDAY || weekday === SUNDAY ? undefined : midnight;
}

/** The edition named `period`, or undefined when `period` names none of that frequency. */
export function editionOf(frequency: DigestFrequency, period: string): DigestEdition | undefined {
  if (frequency === 'DAILY') {
    const until = weekdayMidnight(period);
    if (until === undefined) return undefined;
    const previousWeekday = weekdayOf(until) === MONDAY ? 3 : 1;
    return { frequency, period, from: new Date(until - previousWeekday * DAY_MS), until: new Date(until) };
  }
  const from = isoWeekMonday(period);
  if (from === undefined) return undefined;
  return { frequency, period, from: new Date(from), until: new Date(from + WEEK_MS) };
}

/**
 * The newest edition whose sending time (`hourUtc` on a weekday for DAILY,
 * on a Monday for WEEKLY) has come by `now`. A late or retried run thus
 * still sends the edition it was scheduled for, and a run after the next
 * sending time sends the next one.
 */
export function dueEdition(frequency: DigestFrequency, now: Date, hourUtc: number): DigestEdition {
  const today = midnightOf(now.getTime());
  let sendingDay = today + hourUtc * HOUR_MS <= now.getTime() ? today : today - DAY_MS;
  const isSendingDay = (day: number) => (frequency === 'WEEKLY' ? weekdayOf(day) === MONDAY : weekdayOf(day) !== SATURDAY && weekdayOf(day) !== SUNDAY);
  while (!isSendingDay(sendingDay)) sendingDay -= DAY_MS;
  const period = frequency === 'DAILY' ? isoDate(sendingDay) : isoWeekOf(sendingDay - WEEK_MS);
  return editionOf(frequency, period)!;
}
