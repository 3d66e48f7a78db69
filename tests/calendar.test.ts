import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dateMidnight, DAY_MS, isoWeekMonday, isoWeekOf, midnightOf, WEEK_MS, weekdayOf, YEARS } from '../src/calendar';

const SEED = Number(process.env.FAST_CHECK_SEED ?? 20_261_126);
const MONDAY = 1;

describe('ISO weeks', () => {
  it('names the week of a moment by its Thursday', () => {
    expect(isoWeekOf(Date.parse('2025-11-12T15:30:00Z'))).toBe('2025-W46');
    expect(isoWeekOf(Date.parse('2021-01-03T23:59:59Z'))).toBe('2020-W53');
    expect(isoWeekOf(Date.parse('2024-12-30T00:00:00Z'))).toBe('2025-W01');
    expect(isoWeekOf(Date.parse('2027-01-01T12:00:00Z'))).toBe('2026-W53');
  });

  it('finds the Monday of a week, and no Monday for a week the year lacks', () => {
    expect(isoWeekMonday('2025-W46')).toBe(Date.UTC(2025, 10, 10));
    expect(isoWeekMonday('2020-W53')).toBe(Date.UTC(2020, 11, 28));
    expect(isoWeekMonday('2025-W01')).toBe(Date.UTC(2024, 11, 30));
    for (const missing of ['2025-W00', '2025-W53', '2025-W54', '2025-46', '2025-W4', ' 2025-W46']) {
      expect(isoWeekMonday(missing), missing).toBeUndefined();
    }
  });

  it('every moment lies in the week its name gives, which starts on a Monday', () => {
    const moment = fc.integer({ min: Date.UTC(YEARS.first, 0, 1), max: Date.UTC(YEARS.last, 11, 31) });
    fc.assert(
      fc.property(moment, (time) => {
        const monday = isoWeekMonday(isoWeekOf(time));
        expect(monday).toBeDefined();
        expect(weekdayOf(monday!)).toBe(MONDAY);
        expect(monday!).toBeLessThanOrEqual(time);
        expect(time).toBeLessThan(monday! + WEEK_MS);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('a year has week 53 when it starts on a Thursday, or is a leap year starting on a Wednesday', () => {
    for (let year = YEARS.first; year <= YEARS.last; year += 1) {
      const january1 = weekdayOf(Date.UTC(year, 0, 1));
      const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
      const long = january1 === 4 || (leap && january1 === 3);
      expect(isoWeekMonday(`${year}-W53`) !== undefined, String(year)).toBe(long);
    }
  });
});

describe('days', () => {
  it('midnightOf is the UTC midnight starting the day', () => {
    expect(midnightOf(Date.parse('2025-11-12T23:59:59.999Z'))).toBe(Date.UTC(2025, 10, 12));
    expect(midnightOf(Date.UTC(2025, 10, 12))).toBe(Date.UTC(2025, 10, 12));
    expect(DAY_MS).toBe(Date.UTC(2025, 10, 13) - Date.UTC(2025, 10, 12));
  });

  it('dateMidnight reads real YYYY-MM-DD dates only, two-digit years as written', () => {
    expect(dateMidnight('2025-11-12')).toBe(Date.UTC(2025, 10, 12));
    expect(dateMidnight('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(new Date(dateMidnight('0050-01-03')!).getUTCFullYear()).toBe(50);
    for (const wrong of ['2025-02-29', '2025-13-01', '2025-11-12T00:00:00Z', '25-11-12']) {
      expect(dateMidnight(wrong), wrong).toBeUndefined();
    }
  });
});
