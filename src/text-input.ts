import { z } from 'zod';
import { badUserInput } from './errors';

/**
 * The one rule for text a user sends that is stored (titles, names, comments,
 * URLs, addresses). Text is refused rather than silently repaired, so what is
 * stored is what its author saw:
 * - C0 and C1 control characters (NUL, ESC, DEL, NEL, CSI, ...) are refused;
 *   tab, line feed and carriage return are white space, handled by the shape;
 * - a lone UTF-16 surrogate is refused: no encoding can store it, and
 *   drivers would silently replace it;
 * - line endings become "\n"; a single line's white space (newlines and tabs
 *   included) collapses to one space; outer white space is trimmed;
 * - the result may not be blank, and its length is counted in code points.
 */
export interface TextRule {
  /** 'line': one line, such as a title or a name. 'lines': text that may hold tabs and newlines, such as an abstract. */
  shape: 'line' | 'lines';
  /** At most this many characters, counted as code points. */
  maxLength: number;
}

export type CleanedText = { ok: true; text: string } | { ok: false; problem: string };

/** C0 and C1 control characters other than tab, line feed and carriage return. */
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** Half of a UTF-16 pair without its other half. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Whether `text` holds half of a UTF-16 pair without its other half (no encoding can store it). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** Runs of white space as one space, outer white space trimmed: a title or name is one line. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Characters as a person counts them (code points): a pair of UTF-16 surrogates is one. */
export function countCodePoints(text: string): number {
  let count = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit < 0xdc00 || unit > 0xdfff) count += 1;
  }
  return count;
}

/** `text` as it is stored under `rule`, or what is wrong with it (a phrase to follow "Invalid <field>: "). */
export function cleanText(input: string, rule: TextRule): CleanedText {
  const lines = input.replace(/\r\n?/g, '\n');
  const control = CONTROL_CHARACTER.exec(lines);
  if (control) {
    const allowed = rule.shape === 'lines' ? 'other than tab and newline ' : '';
    return {
      ok: false,
      problem: `control characters ${allowed}are not allowed (found ${codePointName(control[0])} at character ${characterPosition(lines, control.index)})`,
    };
  }
  const surrogate = LONE_SURROGATE.exec(lines);
  if (surrogate) {
    return { ok: false, problem: `not valid Unicode text (a lone surrogate at character ${characterPosition(lines, surrogate.index)})` };
  }
  const text = rule.shape === 'line' ? collapseWhitespace(lines) : lines.trim();
  if (text === '') return { ok: false, problem: 'may not be blank' };
  // Fewer UTF-16 units than the limit cannot be more characters: count only when it may matter.
  if (text.length > rule.maxLength) {
    const length = countCodePoints(text);
    if (length > rule.maxLength) return { ok: false, problem: `at most ${formatCount(rule.maxLength)} characters, got ${formatCount(length)}` };
  }
  return { ok: true, text };
}

/** `input` cleaned under `rule`, or BAD_USER_INPUT naming `field` (in `extensions.field` too). */
export function requireText(input: string, rule: TextRule, field: string): string {
  const cleaned = cleanText(input, rule);
  if (!cleaned.ok) throw badUserInput(`Invalid ${field}: ${cleaned.problem}.`, { field });
  return cleaned.text;
}

/** A zod string cleaned under `rule`; what is wrong becomes the issue's message. */
export function textSchema(rule: TextRule) {
  return z.string().transform((input, context) => {
    const cleaned = cleanText(input, rule);
    if (cleaned.ok) return cleaned.text;
    context.addIssue({ code: 'custom', message: cleaned.problem });
    return z.NEVER;
  });
}

/** "U+001B". */
const codePointName = (character: string) => `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** The 1-based position, in code points, of the UTF-16 unit at `index`. */
const characterPosition = (text: string, index: number) => Array.from(text.slice(0, index)).length + 1;

const formatCount = (count: number) => count.toLocaleString('en');
