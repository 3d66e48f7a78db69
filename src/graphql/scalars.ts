import { Kind, type ValueNode } from 'graphql';
import { parseCalendarDate, parseDateTime } from '../calendar';
import { badUserInput } from '../errors';
import { builder } from './builder';

// Hand-written rather than graphql-scalars': these throw errors carrying
// BAD_USER_INPUT and a message saying what was expected, for literals and
// variables alike, which the contract requires of every malformed input.

function literalString(ast: ValueNode, expected: string): string {
  if (ast.kind !== Kind.STRING) throw badUserInput(`Expected ${expected} as a string.`);
  return ast.value;
}

/** The ISO strings of instants serialized lately, by their time: a page shows the same few again and again. */
const isoStrings = new Map<number, string>();
const MAX_ISO_STRINGS = 10_000;

/** `value.toISOString()` (about a microsecond each: 50 a page), kept by its time. */
function isoString(value: Date): string {
  const time = value.getTime();
  let text = isoStrings.get(time);
  if (text === undefined) {
    text = value.toISOString();
    if (isoStrings.size >= MAX_ISO_STRINGS) isoStrings.clear();
    isoStrings.set(time, text);
  }
  return text;
}

builder.scalarType('DateTime', {
  description: 'A point in time: an ISO-8601 date-time with a time zone, e.g. "2025-11-12T08:30:00.000Z".',
  serialize: isoString,
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(literalString(ast, 'an ISO-8601 date-time')),
});

builder.scalarType('Date', {
  description: 'A UTC calendar day as YYYY-MM-DD, e.g. "2025-11-12".',
  serialize: (value) => value,
  parseValue: parseCalendarDate,
  parseLiteral: (ast) => parseCalendarDate(literalString(ast, 'a date as YYYY-MM-DD')),
});
