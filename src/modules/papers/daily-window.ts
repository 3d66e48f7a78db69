import { badUserInput } from '../../errors';
import { YEARS } from '../../calendar';

/** A half-open UTC interval [from, until) of Daily Papers submission times. */
export interface DailyWindow {
  from: Date;
  until: Date;
}

const DAY_MS = 86_400_000;

/**
 * The window of dailyPapers: exactly one of a UTC day (already validated by
 * the Date scalar), an ISO week like 2025-W46 (Monday to Monday) or a month
 * like 2025-11.
 */
export function dailyWindow(selector: { date?: string | null; week?: string | null; month?: string | null }): DailyWindow {
  const given = (['date', 'week', 'month'] as const).filter((key) => selector[key] != null);
  if (given.length !== 1) {
    throw badUserInput(
      `Give exactly one of \`date\` (2025-11-12), \`week\` (2025-W46) or \`month\` (2025-11); got ${given.length === 0 ? 'none' : given.join(' and ')}.`,
    );
  }
  if (selector.date != null) {
    const from = new Date(`${selector.date}T00:00:00Z`);
    return { from, until: new Date(from.getTime() + DAY_MS) };
  }
  if (selector.week != null) return isoWeekWindow(selector.week);
  return monthWindow(selector.month!);
}

function isoWeekWindow(week: string): DailyWindow {
  const match = /^(\d{4})-W(\d{2})$/.exec(week);
  const year = Number(match?.[1]);
  const number = Number(match?.[2]);
  if (!match || year < YEARS.first || year > YEARS.last || number < 1 || number > isoWeeksInYear(year)) {
    throw badUserInput(
      `"${week}" is not an ISO week: expected YYYY-Www, e.g. "2025-W46", with a week that exists in that year (${YEARS.first} to ${YEARS.last}).`,
    );
  }
  // Week 1 is the week holding January 4th; weeks start on Monday.
  const january4 = Date.UTC(year, 0, 4);
  const mondayOfWeek1 = january4 - ((new Date(january4).getUTCDay() + 6) % 7) * DAY_MS;
  const from = new Date(mondayOfWeek1 + (number - 1) * 7 * DAY_MS);
  return { from, until: new Date(from.getTime() + 7 * DAY_MS) };
}

/** 53 when the year starts on a Thursday, or is a leap year starting on a Wednesday. */
function isoWeeksInYear(year: number): number {
  const weekdayOfJanuary1 = new Date(Date.UTC(year, 0, 1)).getUTCDay();
  const isLeap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return weekdayOfJanuary1 === 4 || (isLeap && weekdayOfJanuary1 === 3) ? 53 : 52;
}

function monthWindow(month: string): DailyWindow {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  const year = Number(match?.[1]);
  const index = Number(match?.[2]) - 1;
  if (!match || year < YEARS.first || year > YEARS.last || index < 0 || index > 11) {
    throw badUserInput(`"${month}" is not a month: expected YYYY-MM, e.g. "2025-11", in the years ${YEARS.first} to ${YEARS.last}.`);
  }
  return { from: new Date(Date.UTC(year, index, 1)), until: new Date(Date.UTC(year, index + 1, 1)) };
}
