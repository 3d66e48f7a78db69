const NEW_STYLE_ARXIV_ID = /^\d{2}(0[1-9]|1[0-2])\.\d{4,5}$/;

/**
 * The arXiv id without its version suffix ("2306.13229v2" -> "2306.13229"),
 * or null unless it is a new-style id: YYMM.NNNN up to 1412, YYMM.NNNNN from 1501.
 */
export function normalizeArxivId(id: string): string | null {
  const unversioned = id.replace(/v\d+$/, '');
  if (!NEW_STYLE_ARXIV_ID.test(unversioned)) return null;
  const sequenceDigits = unversioned.length - 'YYMM.'.length;
  return sequenceDigits === (Number(unversioned.slice(0, 2)) >= 15 ? 5 : 4) ? unversioned : null;
}

/** An arXiv id named by a search query; only new-style ids can be stored here. */
export interface ArxivIdReference {
  /** Without a version: "2306.13229", or old-style "hep-th/9901001" (archive lower-cased, subject class dropped). */
  id: string;
  newStyle: boolean;
}

const OLD_STYLE_ARXIV_ID = /^([a-z]+(?:-[a-z]+)?)(?:\.[a-z]{2})?\/(\d{2}(?:0[1-9]|1[0-2])\d{3})(?:v\d+)?$/i;

/**
 * The prefixes people paste before an id: "arXiv:", an abs/pdf/html page of
 * arxiv.org, a Hugging Face paper page, the arXiv DOI (10.48550/arXiv.).
 */
const ID_PREFIX =
  /^(?:arxiv\s*:\s*|(?:https?:\/\/)?(?:(?:www\.|export\.)?arxiv\.org\/(?:abs|pdf|html|format)\/|(?:www\.)?(?:huggingface\.co|hf\.co)\/papers\/|(?:dx\.)?doi\.org\/)|doi\s*:?\s*)?(?:10\.48550\/arxiv\.)?/i;

/**
 * The arXiv id a whole search query names, in any common form: bare, with a
 * version, "arXiv:" prefixed, an arxiv.org abs/pdf URL (".pdf", a query or a
 * trailing slash allowed), a Hugging Face paper URL, the arXiv DOI, or an
 * old-style id such as "hep-th/9901001". Null when the query is anything else.
 */
export function arxivIdInQuery(query: string): ArxivIdReference | null {
  const trimmed = query.trim().replace(/^[<"'(]+|[>"')]+$/g, '');
  const rest = trimmed
    .replace(ID_PREFIX, '')
    .replace(/[?#].*$/, '')
    .replace(/\/$/, '')
    .replace(/\.pdf$/i, '');
  const newStyle = normalizeArxivId(rest);
  if (newStyle) return { id: newStyle, newStyle: true };
  const oldStyle = OLD_STYLE_ARXIV_ID.exec(rest);
  if (oldStyle) return { id: `${oldStyle[1]!.toLowerCase()}/${oldStyle[2]}`, newStyle: false };
  return null;
}
