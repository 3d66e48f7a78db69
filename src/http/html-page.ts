/** Text as it may stand in HTML, in an element or a quoted attribute. */
export const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** For a page that shows only its own markup: nothing loads, nothing runs, nothing frames it. */
export const PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'";
/** For a page with a form: as PAGE_POLICY, and the form may post back to the API. */
export const FORM_PAGE_POLICY = "default-src 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The headers of a page whose address carries a token: no referrer takes it
 * elsewhere, nothing caches the page.
 */
export const tokenPageHeaders = (policy: string) => ({
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy': policy,
});

/** A small server-rendered page: `title` is text, `body` markup its caller escaped. */
export const htmlPage = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
  `<title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>\n`;

/** A form whose button POSTs to `action` (a path of this API). */
export const postButton = (action: string, label: string) =>
  `<form method="post" action="${escapeHtml(action)}"><button type="submit">${escapeHtml(label)}</button></form>`;
