/**
 * An arXiv category as arXiv writes it: an archive (cs, hep-th, q-bio,
 * cond-mat), then optionally a dot and a subject class (LG, AG, mes-hall).
 */
const ARXIV_CATEGORY = /^[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]{2,}(?:-[a-z]+)?)?$/;

/** The longest category arXiv has is 17 characters (cond-mat.stat-mech); this leaves room. */
export const MAX_CATEGORY_LENGTH = 32;

export function isArxivCategory(text: string): boolean {
  return text.length <= MAX_CATEGORY_LENGTH && ARXIV_CATEGORY.test(text);
}
