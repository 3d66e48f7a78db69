import { Kind, type ValueNode } from 'graphql';
import { isRealMoment, parseCalendarDate, stringOf, YEARS } from '../calendar';
import { badUserInput } from '../errors';
import { builder } from './builder';

// Hand-written rather than graphql-scalars': these throw errors carrying
// BAD_USER_INPUT and a message saying what was expected, for literals and
// variables alike, which the contract requires of every malformed input.

const isoDateTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function literalString(ast: ValueNode, expected: string): string {
  if (ast.kind !== Kind.STRING) throw badUserInput(`Expected ${expected} as a string.`);
  return ast.value;
}

function parseDateTime(value: unknown): Date {
  const text = stringOf(value, 'an ISO-8601 date-time with a time zone, e.g. "2025-11-12T08:30:00Z"');
  const fields = isoDateTime
    .exec(text)
    ?.slice(1, 7)
    .map((field) => Number(field ?? 0));
  const time = new Date(text);
  if (!fields || !isRealMoment(...(fields as [number, number, number, number, number, number])) || Number.isNaN(time.getTime())) {
    throw badUserInput(`"${text}" is not an ISO-8601 date-time with a time zone, e.g. "2025-11-12T08:30:00Z".`);
  }
  if (time.getUTCFullYear() < YEARS.first || time.getUTCFullYear() > YEARS.last) {
    throw badUserInput(`"${text}" is out of range: use a time in the years ${YEARS.first} to ${YEARS.last}.`);
  }
  return time;
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
