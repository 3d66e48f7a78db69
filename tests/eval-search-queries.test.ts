import { describe, expect, it } from 'vitest';
import { generateQueries, splitOf, type CorpusPaper } from '../src/eval/search-queries';

const corpus: CorpusPaper[] = Array.from({ length: 40 }, (_, index) => ({
  arxivId: `2511.${String(10_000 + index)}`,
  title: `Sparse Routing ${['Transformers', 'Diffusion', 'Agents', 'Robots'][index % 4]} Number${index}`,
  abstract: `We study routing with quantity${index} and measure${index % 7} on benchmark${index % 3}.`,
  authors: [`Ada Lovelace${index % 5}`, `Alan Turing${index % 3}`],
  keywords: index % 4 === 2 ? ['assistants'] : [],
  organization: index % 2 === 0 ? { name: 'Even-Lab', fullName: 'Even Laboratory' } : null,
}));

describe('the search query generator', () => {
  it('splits papers in two halves by a seeded hash, the same every time', () => {
    const splits = corpus.map((paper) => splitOf(paper.arxivId, 15));
    expect(new Set(splits)).toEqual(new Set(['development', 'report']));
    expect(corpus.map((paper) => splitOf(paper.arxivId, 15))).toEqual(splits);
    expect(corpus.map((paper) => splitOf(paper.arxivId, 16))).not.toEqual(splits);
  });

  it("asks only about its split's papers, deterministically, every kind with its expected paper", () => {
    const { queries: report } = generateQueries(corpus, 'report', 15);
    const { queries: development } = generateQueries(corpus, 'development', 15);
    expect(generateQueries(corpus, 'report', 15).queries).toEqual(report);
    const reportPapers = new Set(report.flatMap((query) => (query.expected ? [query.expected] : [])));
    const developmentPapers = new Set(development.flatMap((query) => (query.expected ? [query.expected] : [])));
    expect([...reportPapers].filter((id) => developmentPapers.has(id))).toEqual([]);
    expect(new Set(report.map((query) => query.kind))).toEqual(
      new Set(['id', 'absent id', 'name + word', 'organization + word', 'exact title', 'title typo', 'rare abstract words', 'paraphrase']),
    );
    // A paraphrase replaces title words by synonyms that are nowhere in the paper (title, abstract, keywords).
    const paraphrases = report.filter((query) => query.kind === 'paraphrase');
    expect(paraphrases.length).toBeGreaterThan(0);
    for (const query of paraphrases) {
      const paper = corpus.find((candidate) => candidate.arxivId === query.expected)!;
      expect(query.query).not.toBe(paper.title);
      expect(query.query).toMatch(/denoising|machines|assistants|bots/);
      // "assistants" is one Agents paper's keyword: its paraphrase takes the next synonym.
      if (paper.keywords.includes('assistants')) expect(query.query).toContain('bots');
    }
    for (const query of report.filter((candidate) => candidate.kind === 'absent id')) {
      expect(corpus.some((paper) => query.query.endsWith(paper.arxivId))).toBe(false);
    }
    // The distinctive word of the title: the number, which no other paper of the name has.
    const named = report.find((query) => query.kind === 'name + word')!;
    expect(named.query).toMatch(/^Lovelace\d|^Turing\d/);
    expect(named.query.split(' ')[1]).toMatch(/^number\d+$/);
  });
});
