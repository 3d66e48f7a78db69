import { SeededRandom } from '../demo/random';

/**
 * The judge's query set for `npm run eval:search`: for each paper of one
 * split, queries of the kinds people type, each with the paper it should
 * find. The choices below (which words, which edits) were settled on the
 * development split; the report split is only ever scored.
 */

export interface CorpusPaper {
  arxivId: string;
  title: string;
  abstract: string;
  /** In the paper's order. */
  authors: string[];
  keywords: string[];
  organization: { name: string; fullName: string | null } | null;
}

export const QUERY_KINDS = [
  'id',
  'absent id',
  'name + word',
  'organization + word',
  'exact title',
  'title typo',
  'rare abstract words',
  'paraphrase',
] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

export interface JudgedQuery {
  kind: QueryKind;
  query: string;
  /** The paper that must come first (id) or in the first 10; null: nothing is (an id not here). */
  expected: string | null;
}

export type Split = 'development' | 'report';

/** Which split a paper falls in: a hash of its id and the seed, half each. */
export function splitOf(arxivId: string, seed: number): Split {
  let hash = 2_166_136_261 ^ seed;
  for (const character of arxivId) hash = Math.imul(hash ^ character.charCodeAt(0), 16_777_619);
  return (hash >>> 0) % 2 === 0 ? 'development' : 'report';
}

/** English words nobody searches by (a subset of Postgres's english stop words, plus title filler). */
const FILLER = new Set(
  'a an and are as at be by for from has have in into is it its of on or our that the their this to towards via we what when where which while with without'.split(
    ' ',
  ),
);

/** The words of a text a reader might type: lower-cased, hyphenated runs kept, at least 4 characters, no filler. */
function wordsOf(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}-]+/u)
    .map((word) => word.replace(/^-+|-+$/g, ''))
    .filter((word) => word.length >= 4 && !FILLER.has(word) && /\p{L}/u.test(word));
}

/** A name and a word matching more papers than this cannot be expected to put one of them in the first 10. */
const AMBIGUOUS_ABOVE = 10;

const lastName = (name: string) => name.trim().split(/\s+/).at(-1)!;

/** One letter deleted, replaced, swapped with the next or inserted, never the first letter. */
function withTypo(word: string, random: SeededRandom): string {
  const position = random.int(1, word.length - 2);
  const letter = String.fromCharCode(97 + random.int(0, 25));
  switch (random.int(0, 3)) {
    case 0:
      return word.slice(0, position) + word.slice(position + 1);
    case 1:
      return word.slice(0, position) + (letter === word[position] ? 'q' : letter) + word.slice(position + 1);
    case 2:
      return word.slice(0, position) + word[position + 1] + word[position] + word.slice(position + 2);
    default:
      return word.slice(0, position) + letter + word.slice(position);
  }
}

/**
 * Words of titles and what a reader might say instead: general English and
 * machine-learning usage, written once from the dictionary and the field's
 * habits, before the semantic layer was run on any query (never edited
 * after looking at results). Some of the alternatives are words of other
 * papers of the corpus (held out from this paper's text), some are nowhere
 * in it.
 */
const SYNONYMS: Record<string, readonly string[]> = {
  image: ['picture', 'photo', 'visual'],
  images: ['pictures', 'photos', 'visuals'],
  generation: ['synthesis', 'creation'],
  synthesis: ['generation', 'creation'],
  video: ['clip', 'footage', 'movie'],
  videos: ['clips', 'footage', 'movies'],
  robot: ['embodied', 'machine'],
  robots: ['machines', 'embodied'],
  manipulation: ['grasping', 'handling'],
  reasoning: ['deduction', 'thinking', 'inference'],
  language: ['linguistic', 'text'],
  large: ['big', 'massive'],
  model: ['network', 'system'],
  models: ['networks', 'systems'],
  learning: ['training'],
  reinforcement: ['reward-driven'],
  efficient: ['lightweight', 'economical', 'fast'],
  scalable: ['extensible', 'large-scale'],
  robust: ['resilient', 'reliable'],
  unified: ['single', 'joint'],
  adaptive: ['dynamic', 'flexible'],
  hierarchical: ['layered', 'nested'],
  lightweight: ['compact', 'efficient'],
  generalizable: ['transferable', 'general'],
  interpretable: ['explainable', 'transparent'],
  reliable: ['trustworthy', 'robust'],
  faithful: ['accurate', 'truthful'],
  scaling: ['growing', 'expanding'],
  improving: ['enhancing', 'better'],
  rethinking: ['reconsidering', 'revisiting'],
  advancing: ['furthering', 'progressing'],
  boosting: ['increasing', 'enhancing'],
  revisiting: ['reexamining', 'rethinking'],
  unlocking: ['enabling'],
  speech: ['spoken', 'voice'],
  audio: ['sound'],
  recognition: ['transcription'],
  agent: ['assistant', 'bot'],
  agents: ['assistants', 'bots'],
  planning: ['scheduling', 'plans'],
  navigation: ['wayfinding'],
  vision: ['visual', 'sight'],
  visual: ['vision', 'image'],
  inference: ['serving', 'prediction'],
  compression: ['shrinking', 'quantization'],
  quantization: ['compression', 'low-bit'],
  memory: ['storage'],
  attention: ['focus'],
  diffusion: ['denoising'],
  denoising: ['diffusion'],
  reconstruction: ['recovery'],
  scene: ['environment', 'surroundings'],
  scenes: ['environments', 'surroundings'],
  view: ['perspective', 'viewpoint'],
  novel: ['new', 'unseen'],
  multimodal: ['cross-modal'],
  understanding: ['comprehension'],
  grounding: ['localization'],
  policy: ['controller', 'strategy'],
  policies: ['controllers', 'strategies'],
  locomotion: ['walking'],
  dexterous: ['skillful', 'nimble'],
  decoding: ['generation'],
  verification: ['checking'],
  mathematical: ['arithmetic', 'math'],
  reward: ['incentive'],
  text: ['textual', 'written'],
  music: ['melody', 'song'],
  translation: ['interpretation'],
  tool: ['utility', 'instrument'],
  world: ['environment'],
  exploration: ['discovery', 'curiosity'],
  offline: ['logged', 'batch'],
  distillation: ['compression', 'teacher-student'],
  long: ['extended', 'lengthy'],
  context: ['window'],
  search: ['lookup', 'retrieval'],
  monocular: ['single-camera'],
  depth: ['distance'],
  radiance: ['light'],
  neural: ['learned'],
};

/**
 * A paraphrase of the title: its acronym left out and every word with a
 * synonym none of whose words is in the paper's text replaced by it (the
 * first such); null when no word could be. A reader describing the paper in
 * their own words: the lexical search, which wants every word, misses it.
 */
function paraphraseOf(paper: CorpusPaper): string | null {
  const inPaper = new Set(`${paper.title} ${paper.abstract} ${paper.keywords.join(' ')}`.toLowerCase().split(/[^\p{L}\p{N}]+/u));
  let replaced = 0;
  const words = paper.title
    .replace(/^[^:]*:\s*/, (prefix) => (/[A-Z]{2}/.test(prefix) ? '' : prefix))
    .split(/\s+/)
    .map((word) => {
      const bare = word.toLowerCase().replace(/[^\p{L}\p{N}-]+/gu, '');
      const synonym = SYNONYMS[bare]?.find((candidate) => candidate.split(/[\s-]+/).every((part) => !inPaper.has(part)));
      if (!synonym) return word;
      replaced += 1;
      return synonym;
    });
  return replaced > 0 ? words.join(' ') : null;
}

/** The queries for the papers of `split`, over the whole corpus (document frequencies count every paper). */
export function generateQueries(
  corpus: readonly CorpusPaper[],
  split: Split,
  seed: number,
): { queries: JudgedQuery[]; unaskable: Record<'name + word' | 'organization + word', number> } {
  const unaskable = { 'name + word': 0, 'organization + word': 0 };
  const random = new SeededRandom(seed);
  const abstractFrequency = new Map<string, number>();
  for (const paper of corpus) {
    for (const word of new Set(wordsOf(paper.abstract))) abstractFrequency.set(word, (abstractFrequency.get(word) ?? 0) + 1);
  }
  const titleWordsOf = new Map(corpus.map((paper) => [paper, new Set(wordsOf(paper.title))]));
  const known = new Set(corpus.map((paper) => paper.arxivId));
  const queries: JudgedQuery[] = [];
  for (const paper of corpus) {
    if (splitOf(paper.arxivId, seed) !== split) continue;
    const id = paper.arxivId;
    for (const query of [id, `${id}v${random.int(1, 4)}`, `arXiv:${id}`, `https://arxiv.org/abs/${id}v2`, `https://arxiv.org/pdf/${id}`]) {
      queries.push({ kind: 'id', query, expected: id });
    }
    const absent = `${id.slice(0, 5)}${String(random.int(0, 99_999)).padStart(id.length - 5, '0')}`;
    if (!known.has(absent)) queries.push({ kind: 'absent id', query: `arXiv:${absent}`, expected: null });

    // The word of the title a reader remembers the paper by, among the papers of that name: on the development
    // split, a word picked at random ("model", "learning") left a third of these queries naming more than ten
    // papers of that author or organization, and the rarest word among all titles still a tenth.
    const titleWords = [...new Set(wordsOf(paper.title))];
    // When even that word is in the titles of more than 10 papers of the name, no name and one word can
    // single the paper out (the demo's titles are made of a small vocabulary): such queries are not asked,
    // only counted.
    const distinctiveWord = (namedBy: (other: CorpusPaper) => boolean) => {
      const named = corpus.filter(namedBy);
      const best = titleWords
        .map((word) => ({ word, papers: named.filter((other) => titleWordsOf.get(other)!.has(word)).length, tie: random.next() }))
        .sort((a, b) => a.papers - b.papers || a.tie - b.tie)[0];
      return best && best.papers <= AMBIGUOUS_ABOVE ? best.word : null;
    };
    for (const author of random.sample(paper.authors, 3)) {
      const surname = lastName(author).toLowerCase();
      const word = distinctiveWord((other) => other.authors.some((name) => lastName(name).toLowerCase() === surname));
      if (word) queries.push({ kind: 'name + word', query: `${lastName(author)} ${word}`, expected: id });
      else unaskable['name + word'] += 1;
    }
    if (paper.organization) {
      const { name, fullName } = paper.organization;
      const word = distinctiveWord((other) => other.organization?.name === name);
      const forms = fullName && fullName !== name ? [name, fullName] : [name];
      for (const form of forms) {
        if (word) queries.push({ kind: 'organization + word', query: `${form} ${word}`, expected: id });
        else unaskable['organization + word'] += 1;
      }
    }

    queries.push({ kind: 'exact title', query: paper.title, expected: id });

    const typoCandidates = paper.title.split(/\s+/).filter((word) => /^\p{L}{5,}$/u.test(word));
    if (typoCandidates.length > 0) {
      const word = random.pick(typoCandidates);
      queries.push({ kind: 'title typo', query: paper.title.replace(word, withTypo(word, random)), expected: id });
    }

    const rare = [...new Set(wordsOf(paper.abstract))]
      .map((word) => ({ word, frequency: abstractFrequency.get(word)!, tie: random.next() }))
      .sort((a, b) => a.frequency - b.frequency || a.tie - b.tie)
      .slice(0, 3)
      .map((entry) => entry.word);
    if (rare.length === 3) queries.push({ kind: 'rare abstract words', query: random.sample(rare, 3).join(' '), expected: id });

    const paraphrase = paraphraseOf(paper);
    if (paraphrase) queries.push({ kind: 'paraphrase', query: paraphrase, expected: id });
  }
  return { queries, unaskable };
}
