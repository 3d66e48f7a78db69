import { badUserInput } from '../../errors';

export const MAX_COMMENT_LENGTH = 10_000;

/** C0 and C1 control characters other than tab and newline. */
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
/** Half of a UTF-16 pair without its other half: no encoding can store it, and drivers would silently replace it. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Characters as a person counts them (code points): a pair of UTF-16 surrogates is one. */
function countCodePoints(text: string): number {
  let count = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit < 0xdc00 || unit > 0xdfff) count += 1;
  }
  return count;
}

/**
 * The body of a comment as it is stored: plain text (shown as text, never as
 * HTML or Markdown), line endings made "\n", outer whitespace trimmed, 1 to
 * MAX_COMMENT_LENGTH characters. Control characters are refused rather than
 * stripped, so what is stored is exactly what its author saw.
 */
export function normalizeCommentBody(body: string): string {
  const text = body.replace(/\r\n?/g, '\n').trim();
  if (text.length === 0) throw badUserInput('A comment needs some text: the body is empty.');
  if (CONTROL_CHARACTER.test(text)) {
    throw badUserInput('A comment is plain text: control characters other than tab and newline are not allowed.');
  }
  if (LONE_SURROGATE.test(text)) throw badUserInput('The body is not valid Unicode text (it holds a lone surrogate).');
  // Fewer UTF-16 units than the limit cannot be more characters: count only when it may matter.
  if (text.length > MAX_COMMENT_LENGTH) {
    const length = countCodePoints(text);
    if (length > MAX_COMMENT_LENGTH) {
      throw badUserInput(
        `A comment may be at most ${MAX_COMMENT_LENGTH.toLocaleString('en')} characters, got ${length.toLocaleString('en')}.`,
      );
    }
  }
  return text;
}
