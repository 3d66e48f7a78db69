import { Kind, type ValueNode } from 'graphql';
import { badUserInput } from '../errors';
import { builder } from './builder';

// Hand-written rather than graphql-scalars': these throw errors carrying
// BAD_USER_INPUT and a message saying what was expected, for literals and
// variables alike, which the contract requires of every malformed input.

const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;

function stringOf(value: unknown, expected: string): string {
  if (typeof value !== 'string') throw badUserInput(`Expected ${expected}, got ${JSON.stringify(value) ?? String(value)}.`);
  return value;
}

function literalString(ast: ValueNode, expected: string): string {
  if (ast.kind !== Kind.STRING) throw badUserInput(`Expected ${expected} as a string.`);
  return ast.value;
}

function parseDateTime(value: unknown): Date {
  const text = stringOf(value, 'an ISO-8601 date-time with a time zone, e.g. "2025-11-12T08:30:00Z"');
  const time = new Date(text);
  if (!isoDateTime.test(text) || Number.isNaN(time.getTime())) {
    throw badUserInput(`"${text}" is not an ISO-8601 date-time with a time zone, e.g. "2025-11-12T08:30:00Z".`);
  }
  return time;
}

/** Validates a calendar date in YYYY-MM-DD form (2025-02-30 is rejected). */
export function parseCalendarDate(value: unknown): string {
  const text = stringOf(value, 'a date as YYYY-MM-DD, e.g. "2025-11-12"');
  const match = isoDate.exec(text);
  const time = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
  if (!time || time.toISOString().slice(0, 10) !== text) {
    throw badUserInput(`"${text}" is not a date as YYYY-MM-DD, e.g. "2025-11-12".`);
  }
  return text;
}

builder.scalarType('DateTime', {
  description: 'A point in time: an ISO-8601 date-time with a time zone, e.g. "2025-11-12T08:30:00.000Z".',
  serialize: (value) => value.toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(literalString(ast, 'an ISO-8601 date-time')),
});

builder.scalarType('Date', {
  description: 'A UTC calendar day as YYYY-MM-DD, e.g. "2025-11-12".',
  serialize: (value) => value,
  parseValue: parseCalendarDate,
  parseLiteral: (ast) => parseCalendarDate(literalString(ast, 'a date as YYYY-MM-DD')),
});
