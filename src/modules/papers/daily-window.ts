import { badUserInput } from '../../errors';
import { DAY_MS, isoWeekMonday, WEEK_MS, YEARS } from '../../calendar';

/** A half-open UTC interval [from, until) of Daily Papers submission times. */
export interface DailyWindow {
  from: Date;
  until: Date;
}

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
  const year = Number(week.slice(0, 4));
  const monday = isoWeekMonday(week);
  if (monday === undefined || year < YEARS.first || year > YEARS.last) {
    throw badUserInput(
      `"${week}" is not an ISO week: expected YYYY-Www, e.g. "2025-W46", with a week that exists in that year (${YEARS.first} to ${YEARS.last}).`,
    );
  }
  return { from: new Date(monday), until: new Date(monday + WEEK_MS) };
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
