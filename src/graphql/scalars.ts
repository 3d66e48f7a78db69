import { Kind, type ValueNode } from 'graphql';
import { isRealMoment, YEARS } from '../calendar';
import { badUserInput } from '../errors';
import { builder } from './builder';

// Hand-written rather than graphql-scalars': these throw errors carrying
// BAD_USER_INPUT and a message saying what was expected, for literals and
// variables alike, which the contract requires of every malformed input.

const isoDateTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
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
  const fields = isoDateTime.exec(text)?.slice(1, 7).map((field) => Number(field ?? 0));
  const time = new Date(text);
  if (!fields || !isRealMoment(...(fields as [number, number, number, number, number, number])) || Number.isNaN(time.getTime())) {
    throw badUserInput(`"${text}" is not an ISO-8601 date-time with a time zone, e.g. "2025-11-12T08:30:00Z".`);
  }
  if (time.getUTCFullYear() < YEARS.first || time.getUTCFullYear() > YEARS.last) {
    throw badUserInput(`"${text}" is out of range: use a time in the years ${YEARS.first} to ${YEARS.last}.`);
  }
  return time;
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
