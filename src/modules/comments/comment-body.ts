import { requireText, type TextRule } from '../../text-input';

export const MAX_COMMENT_LENGTH = 10_000;

/** Plain text (shown as text, never as HTML or Markdown) of several lines. */
const COMMENT_BODY: TextRule = { shape: 'lines', maxLength: MAX_COMMENT_LENGTH };

/**
 * The body of a comment as it is stored, under the shared text rule: line
 * endings made "\n", outer whitespace trimmed, 1 to MAX_COMMENT_LENGTH
 * characters, control characters other than tab and newline refused.
 */
export function normalizeCommentBody(body: string): string {
  return requireText(body, COMMENT_BODY, 'body');
}
