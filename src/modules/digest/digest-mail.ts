import { DAY_MS } from '../../calendar';
import { escapeHtml } from '../../http/html-page';
import type { MailMessage } from '../../mail/mailer';
import type { DigestEdition, DigestFrequency } from './editions';

/** A paper as a digest lists it. */
export interface DigestPaper {
  arxivId: string;
  title: string;
  authors: string[];
  upvotes: number;
}

/** How many author names a digest entry shows before "et al.". */
const NAMED_AUTHORS = 3;

const cadence: Record<DigestFrequency, string> = {
  DAILY: 'every weekday',
  WEEKLY: 'every Monday',
};

const confirmUrlOf = (publicUrl: string, token: string) => `${publicUrl}/digest/confirm?token=${token}`;
const unsubscribeUrlOf = (publicUrl: string, token: string) => `${publicUrl}/digest/unsubscribe?token=${token}`;
const paperUrlOf = (publicUrl: string, arxivId: string) => `${publicUrl}/papers/${arxivId}`;

export function confirmationMessage(publicUrl: string, subscription: { email: string; frequency: DigestFrequency }, confirmToken: string): MailMessage {
  const confirmUrl = confirmUrlOf(publicUrl, confirmToken);
  const request = `Someone, hopefully you, asked for the trending papers of Daily Papers ${cadence[subscription.frequency]} at this address.`;
  const ignore = 'If it was not you, ignore this email: nothing is sent unless the address is confirmed.';
  return {
    to: subscription.email,
    subject: 'Confirm your Daily Papers digest',
    text: `${request}\n\nConfirm the subscription:\n${confirmUrl}\n\n${ignore}\n`,
    html: `<p>${escapeHtml(request)}</p>` + `<p><a href="${escapeHtml(confirmUrl)}">Confirm the subscription</a></p>` + `<p>${escapeHtml(ignore)}</p>`,
  };
}

const upvoteCount = (upvotes: number) => `${upvotes} upvote${upvotes === 1 ? '' : 's'}`;

function authorLine(authors: string[]): string {
  if (authors.length <= NAMED_AUTHORS) return authors.join(', ');
  return `${authors.slice(0, NAMED_AUTHORS).join(', ')} et al. (${authors.length} authors)`;
}

function editionTitle(edition: DigestEdition): string {
  return `Daily Papers ${edition.frequency === 'DAILY' ? 'digest' : 'weekly digest'}: ${edition.period}`;
}

/** "featured on 2025-11-11" or "featured from 2025-11-14 to 2025-11-16" (UTC days, inclusive). */
function coveredDays(edition: DigestEdition): string {
  const first = edition.from.toISOString().slice(0, 10);
  const last = new Date(edition.until.getTime() - DAY_MS).toISOString().slice(0, 10);
  return first === last ? `featured on ${first}` : `featured from ${first} to ${last}`;
}

/** One edition for one subscriber: the same papers for everyone, with the subscriber's unsubscribe link. */
export function digestMessage(
  publicUrl: string,
  edition: DigestEdition,
  papers: readonly DigestPaper[],
  recipient: { email: string; unsubscribeToken: string },
): MailMessage {
  const unsubscribeUrl = unsubscribeUrlOf(publicUrl, recipient.unsubscribeToken);
  const lead = `The most trending papers ${coveredDays(edition)} (UTC):`;
  const reason = `You get this ${cadence[edition.frequency]} because this address subscribed to the Daily Papers digest.`;
  const textEntries = papers.map((paper, index) =>
    [
      `${index + 1}. ${paper.title}`,
      `   ${authorLine(paper.authors)} · ${upvoteCount(paper.upvotes)}`,
      `   ${paperUrlOf(publicUrl, paper.arxivId)}`,
    ].join('\n'),
  );
  const htmlEntries = papers.map(
    (paper) =>
      `<li><a href="${escapeHtml(paperUrlOf(publicUrl, paper.arxivId))}">${escapeHtml(paper.title)}</a>` +
      `<br>${escapeHtml(authorLine(paper.authors))} · ${upvoteCount(paper.upvotes)}</li>`,
  );
  return {
    to: recipient.email,
    subject: editionTitle(edition),
    text: `${lead}\n\n${textEntries.join('\n\n')}\n\n--\n${reason}\nUnsubscribe: ${unsubscribeUrl}\n`,
    html:
      `<h1>${escapeHtml(editionTitle(edition))}</h1><p>${escapeHtml(lead)}</p><ol>${htmlEntries.join('')}</ol>` +
      `<hr><p>${escapeHtml(reason)} <a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a></p>`,
    unsubscribeUrl,
  };
}
