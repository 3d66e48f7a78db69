import { describe, expect, it } from 'vitest';
import { dueEdition, editionOf } from '../src/modules/digest/editions';

// Which edition is due when: the calendar arithmetic alone, no database.

describe('editions', () => {
  it.each([
    ['Wednesday at the hour', '2025-11-12T08:00:00Z', 'DAILY', '2025-11-12', '2025-11-11', '2025-11-12'],
    ['Wednesday before the hour', '2025-11-12T07:59:59Z', 'DAILY', '2025-11-11', '2025-11-10', '2025-11-11'],
    ['Saturday', '2025-11-15T12:00:00Z', 'DAILY', '2025-11-14', '2025-11-13', '2025-11-14'],
    ['Monday before the hour', '2025-11-17T07:00:00Z', 'DAILY', '2025-11-14', '2025-11-13', '2025-11-14'],
    ['Monday at the hour', '2025-11-17T08:30:00Z', 'DAILY', '2025-11-17', '2025-11-14', '2025-11-17'],
    ['Monday at the hour', '2025-11-17T08:00:00Z', 'WEEKLY', '2025-W46', '2025-11-10', '2025-11-17'],
    ['Monday before the hour', '2025-11-17T07:00:00Z', 'WEEKLY', '2025-W45', '2025-11-03', '2025-11-10'],
    ['Sunday', '2025-11-23T23:00:00Z', 'WEEKLY', '2025-W46', '2025-11-10', '2025-11-17'],
    ['the first Monday of 2026', '2026-01-05T08:00:00Z', 'WEEKLY', '2026-W01', '2025-12-29', '2026-01-05'],
    ['the last Monday of 2025', '2025-12-29T09:00:00Z', 'WEEKLY', '2025-W52', '2025-12-22', '2025-12-29'],
  ] as const)('%s (%s), %s: the edition due is %s', (_case, now, frequency, period, from, until) => {
    expect(dueEdition(frequency, new Date(now), 8)).toEqual({
      frequency,
      period,
      from: new Date(`${from}T00:00:00Z`),
      until: new Date(`${until}T00:00:00Z`),
    });
  });

  it('names no edition on a weekend day, a week that does not exist or a malformed period', () => {
    expect(editionOf('DAILY', '2025-11-16')).toBeUndefined();
    expect(editionOf('DAILY', '2025-02-30')).toBeUndefined();
    expect(editionOf('WEEKLY', '2025-W00')).toBeUndefined();
    expect(editionOf('WEEKLY', '2021-W53')).toBeUndefined();
    expect(editionOf('WEEKLY', '2020-W53')).toMatchObject({ from: new Date('2020-12-28T00:00:00Z') });
    expect(editionOf('WEEKLY', '2025-w46')).toBeUndefined();
  });
});
