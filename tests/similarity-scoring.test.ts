import { describe, expect, it } from 'vitest';
import {
  Accumulator,
  TopK,
  accumulateCoVoters,
  accumulateContent,
  buildPaperIndex,
  compressRows,
  transposeRows,
} from '../src/modules/recommendations/similarity-scoring';

/** The in-memory half of the similar-papers refresh; tests/recommendations.test.ts covers it end to end. */
describe('similarity scoring in memory', () => {
  it('keeps the k best by value, then by the higher paper, as order by value desc, id desc', () => {
    const top = new TopK(3);
    for (const [paper, value] of [
      [4, 0.5],
      [1, 0.9],
      [7, 0.5],
      [2, 0.1],
      [9, 0.5],
      [3, 0.9],
    ] as const) {
      top.offer(paper, value);
    }
    expect(Array.from(top.papers.slice(0, top.size))).toEqual([3, 1, 9]);
    expect(Array.from(top.values.slice(0, top.size))).toEqual([0.9, 0.9, 0.5]);
    top.clear();
    top.offer(5, 0.2);
    expect(top.size).toBe(1);
    expect(top.papers[0]).toBe(5);
  });

  it('numbers papers in id order and turns compressed rows around, values alongside', () => {
    const index = buildPaperIndex([30, 10, 20]);
    expect(Array.from(index.ids)).toEqual([10, 20, 30]);
    expect(index.byId.get(30)).toBe(2);
    const rows = compressRows(
      2,
      new Map([
        [0, { items: [2, 0], values: [0.5, 0.25] }],
        [1, { items: [2], values: [1] }],
      ]),
      true,
    );
    const turned = transposeRows(rows, 3);
    expect(Array.from(turned.start)).toEqual([0, 1, 1, 3]);
    expect(Array.from(turned.items)).toEqual([0, 0, 1]);
    expect(Array.from(turned.values!)).toEqual([0.25, 0.5, 1]);
  });

  it('counts co-voters and sums content products over champions, never the source itself, and clears what it touched', () => {
    // Users 0 and 1 upvoted papers 0 and 1; user 1 also paper 2; user 2 only paper 2.
    const votes = compressRows(
      3,
      new Map([
        [0, { items: [0, 1] }],
        [1, { items: [0, 1, 2] }],
        [2, { items: [2] }],
      ]),
      false,
    );
    const voters = transposeRows(votes, 3);
    const coVoters = new Accumulator(3);
    accumulateCoVoters(0, votes, voters, coVoters);
    expect(Array.from(coVoters.sums)).toEqual([0, 2, 1]);
    expect(coVoters.count).toBe(2);
    coVoters.clear();
    expect(Array.from(coVoters.sums)).toEqual([0, 0, 0]);
    expect(coVoters.count).toBe(0);

    // Lexeme 0 in papers 0 and 1, lexeme 1 in papers 0 and 2; lexeme 1's champion list leaves paper 2 out.
    const terms = compressRows(
      3,
      new Map([
        [0, { items: [0, 1], values: [0.6, 0.8] }],
        [1, { items: [0], values: [1] }],
        [2, { items: [1], values: [1] }],
      ]),
      true,
    );
    const champions = compressRows(
      2,
      new Map([
        [0, { items: [1, 0], values: [1, 0.6] }],
        [1, { items: [0], values: [0.8] }],
      ]),
      true,
    );
    const content = new Accumulator(3);
    accumulateContent(0, terms, champions, content);
    expect(Array.from(content.sums)).toEqual([0, 0.6, 0]);
  });
});
