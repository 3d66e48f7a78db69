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
