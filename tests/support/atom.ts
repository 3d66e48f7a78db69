import { XMLParser } from 'fast-xml-parser';

/** Parses an Atom document as the feed tests read it: attributes inline, text kept as text, repeatable elements as arrays. */
export const atomParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  isArray: (name) => ['entry', 'author', 'link'].includes(name),
});

/** Titles and content are type="html": the text a reader shows is the HTML decoded. */
export const fromHtml = (html: string) =>
  html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
