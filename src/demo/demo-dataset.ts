import { DAY_MS, HOUR_MS, midnightOf, weekdayOf } from '../calendar';
import type { PaperRecord } from '../modules/papers/save-papers';
import { FIRST_NAMES, LAST_NAMES, ORGANIZATIONS, type DemoOrganization } from './names';
import { composePaperText } from './paper-text';
import { SeededRandom } from './random';
import { TOPICS } from './topics';

export interface DemoDatasetOptions {
  paperCount: number;
  /** 150 unless given. */
  userCount?: number;
  /** Papers are featured on the DEMO_DAYS UTC days ending with this moment's day, and every vote is cast before it. */
  now: Date;
  seed?: number;
  /** How readers and papers behave; the demo world unless given. */
  world?: Partial<DemoWorld>;
}

/**
 * The knobs of the generated world, so offline evaluations can try the
 * recommenders on differently built data.
 */
export interface DemoWorld {
  /** Sigma of the papers' log-normal appeal: larger, a few papers take most votes. */
  appealSpread: number;
  /** The chance that a reader has a second favourite topic. */
  secondTopicChance: number;
  /** How much a reader's second topic weighs, relative to the first (1: they mix evenly). */
  secondTopicWeight: number;
  /** Whether a paper's words (title, abstract, keywords) come from another topic than the one its readers follow. */
  textUnrelatedToTopic: boolean;
  /** Scales every reader's number of upvotes (each keeps at least MIN_VOTES). */
  voteRate: number;
  /** The share of readers who are new: two or three upvotes. */
  newReaderShare: number;
  /** Over how many UTC days the papers are featured (300 papers over 60 days: about 5 a day). */
  days: number;
}

/** The demo world's span of featured days. */
export const DEMO_DAYS = 60;

export const DEMO_WORLD: DemoWorld = {
  appealSpread: 1.1,
  secondTopicChance: 0.6,
  secondTopicWeight: 0.6,
  textUnrelatedToTopic: false,
  voteRate: 1,
  newReaderShare: 0,
  days: DEMO_DAYS,
};

/** A reader's fewest upvotes. */
const MIN_VOTES = 1;

export interface DemoUser {
  username: string;
  displayName: string;
  avatarUrl: string;
}

/** A demo paper; `topic` is not stored, but lets tests and offline evaluations see the topic structure. */
export interface DemoPaper extends PaperRecord {
  topic: string;
  submittedAt: Date;
}

export interface DemoUpvote {
  username: string;
  arxivId: string;
  createdAt: Date;
}

export interface DemoDataset {
  /** In order of submission. */
  papers: DemoPaper[];
  users: DemoUser[];
  upvotes: DemoUpvote[];
  /** What drew the votes, never stored: offline evaluations rank with it for a ceiling no recommender can pass. */
  truth: DemoTruth;
}

export interface DemoTruth {
  /** Each paper's appeal, in the order of `papers`. */
  appeal: number[];
  /** Each user's affinity for each topic (in the order of TOPICS), in the order of `users`. */
  topicAffinity: number[][];
}

const DEFAULT_USER_COUNT = 150;
const DEFAULT_SEED = 20_231_112;

const TOPIC_WEIGHTS = TOPICS.map((topic) => topic.weight);
const TOPIC_INDEX = new Map(TOPICS.map((topic, index) => [topic.name, index]));
const ORGANIZATIONS_BY_TOPIC = new Map(
  TOPICS.map((topic) => [topic.name, ORGANIZATIONS.filter((organization) => organization.topics.includes(topic.name))]),
);

/**
 * A realistic-looking, fully deterministic data set: the same options give
 * the same papers, users and upvotes, down to the millisecond.
 */
export function generateDemoDataset(options: DemoDatasetOptions): DemoDataset {
  const { paperCount, userCount = DEFAULT_USER_COUNT, now, seed = DEFAULT_SEED } = options;
  const world: DemoWorld = { ...DEMO_WORLD, ...options.world };
  if (!Number.isInteger(paperCount) || paperCount < 0) throw new RangeError(`paperCount must be a whole number >= 0, got ${paperCount}`);
  if (!Number.isInteger(userCount) || userCount < 1) throw new RangeError(`userCount must be a whole number >= 1, got ${userCount}`);

  const random = new SeededRandom(seed);
  const users = createUsers(random, userCount);
  const authorsByTopic = createAuthorPool(random, paperCount);
  const takenArxivIds = new Set<string>();
  const papers = scheduleSubmissions(random, paperCount, now, world.days).map((submittedAt) =>
    createPaper(random, submittedAt, users, authorsByTopic, takenArxivIds, world),
  );
  return { papers, users, ...castUpvotes(random, papers, users, now, world) };
}

type UsernameStyle = (first: string, last: string, random: SeededRandom) => string;

const USERNAME_STYLES: readonly UsernameStyle[] = [
  (first, last) => `${first}${last}`.toLowerCase(),
  (first, last) => `${first.charAt(0)}${last}`.toLowerCase(),
  (first, last) => `${first}_${last}`.toLowerCase(),
  (first, last) => `${first}-${last}`.toLowerCase(),
  (first, last) => `${first}${last}`,
  (first, _last, random) => `${first.toLowerCase()}${random.int(1, 99)}`,
  (first, last, random) => `${last}${first.charAt(0)}${random.int(10, 99)}`.toLowerCase(),
];

function createUsers(random: SeededRandom, count: number): DemoUser[] {
  const taken = new Set<string>();
  return Array.from({ length: count }, () => {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    const username = claimUsername(random.pick(USERNAME_STYLES)(first, last, random), taken);
    return { username, displayName: `${first} ${last}`, avatarUrl: `https://api.dicebear.com/9.x/thumbs/svg?seed=${username}` };
  });
}

/** Usernames are unique regardless of case, as the database requires. */
function claimUsername(candidate: string, taken: Set<string>): string {
  let username = candidate;
  for (let suffix = 2; taken.has(username.toLowerCase()); suffix++) username = `${candidate}${suffix}`;
  taken.add(username.toLowerCase());
  return username;
}

/** Author names grouped by the topic they mostly publish on; few enough that many appear on several papers. */
function createAuthorPool(random: SeededRandom, paperCount: number): string[][] {
  const size = Math.min(3000, Math.max(200, Math.round(paperCount * 1.2)));
  const names = new Set<string>();
  while (names.size < size) names.add(`${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`);
  const byTopic = TOPICS.map((): string[] => []);
  for (const [index, name] of [...names].entries()) byTopic[index % TOPICS.length]!.push(name);
  return byTopic;
}

/**
 * Featured times over the last `dayCount` UTC days, today's only up to `now`:
 * fewer on weekends (in the demo world, 300 papers: a few to about ten a day).
 */
function scheduleSubmissions(random: SeededRandom, paperCount: number, now: Date, dayCount: number): Date[] {
  const nowMs = now.getTime();
  const firstDay = midnightOf(nowMs) - (dayCount - 1) * DAY_MS;
  const days = Array.from({ length: dayCount }, (_, index) => {
    const start = firstDay + index * DAY_MS;
    const length = Math.min(DAY_MS, nowMs - start);
    const dayOfWeek = weekdayOf(start);
    const weekendFactor = dayOfWeek === 0 || dayOfWeek === 6 ? 0.5 : 1;
    return { start, length, weight: (length / DAY_MS) * weekendFactor * (0.6 + 1.8 * random.next()) };
  });
  const counts = apportion(
    paperCount,
    days.map((day) => day.weight),
  );
  return days.flatMap((day, index) =>
    Array.from({ length: counts[index]! }, () => day.start + Math.floor(random.next() * day.length))
      .sort((a, b) => a - b)
      .map((time) => new Date(time)),
  );
}

/** Splits `total` in proportion to `weights` by largest remainders, so the parts add up exactly. */
function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((acc, weight) => acc + weight, 0);
  const quotas = weights.map((weight) => (total * weight) / sum);
  const counts = quotas.map(Math.floor);
  const remainder = (index: number) => quotas[index]! - counts[index]!;
  const leftOver = total - counts.reduce((acc, count) => acc + count, 0);
  const byRemainder = counts.map((_, index) => index).sort((a, b) => remainder(b) - remainder(a) || a - b);
  for (const index of byRemainder.slice(0, leftOver)) counts[index]! += 1;
  return counts;
}

function createPaper(
  random: SeededRandom,
  submittedAt: Date,
  users: readonly DemoUser[],
  authorsByTopic: readonly string[][],
  takenArxivIds: Set<string>,
  world: DemoWorld,
): DemoPaper {
  const topicIndex = random.weightedIndex(TOPIC_WEIGHTS);
  const topic = TOPICS[topicIndex]!;
  const text = composePaperText(random, world.textUnrelatedToTopic ? TOPICS[random.weightedIndex(TOPIC_WEIGHTS)]! : topic);
  // Mostly featured a day or two after it appeared on arXiv, at most ten days.
  const publishedAt = new Date(submittedAt.getTime() - Math.floor(random.next() ** 2 * 10 * DAY_MS));
  const authors = pickAuthors(random, authorsByTopic, topicIndex);
  const organization = random.chance(0.85) ? pickOrganization(random, topic.name) : null;
  // A few prolific submitters, as on the real site.
  const submitter = users[Math.floor(users.length * random.next() ** 3)]!;
  const repositoryOwner = organization?.name ?? authors[0]!.name.toLowerCase().replace(' ', '-');
  const slug = text.acronym.toLowerCase().replace(/[^a-z0-9-]/g, '');
  const arxivId = claimArxivId(random, publishedAt, takenArxivIds);
  const hasCode = random.chance(0.45);

  return {
    arxivId,
    topic: topic.name,
    title: text.title,
    abstract: text.abstract,
    publishedAt,
    submittedAt,
    submittedBy: submitter,
    organization: organization
      ? { name: organization.name, fullName: organization.fullName, avatarUrl: `https://api.dicebear.com/9.x/shapes/svg?seed=${organization.name}` }
      : null,
    authors,
    githubRepo: hasCode ? `https://github.com/${repositoryOwner}/${slug}` : null,
    githubStars: hasCode ? Math.floor(Math.exp(random.next() * 9)) : null,
    projectPage: random.chance(0.3) ? `https://${repositoryOwner.toLowerCase()}.github.io/${slug}` : null,
    thumbnailUrl: random.chance(0.65) ? `https://picsum.photos/seed/${arxivId}/640/360` : null,
    aiSummary: random.chance(0.55) ? text.aiSummary : null,
    keywords: text.keywords,
    categories: [...topic.categories],
    upvoteBaseline: random.chance(0.05) ? random.int(1, 25) : 0,
    commentCount: 0,
  };
}

/** 1-12 distinct authors, mostly from the topic's group and skewed towards its first names, so some are prolific. */
function pickAuthors(random: SeededRandom, authorsByTopic: readonly string[][], topicIndex: number): { name: string }[] {
  const count = 1 + Math.floor(12 * random.next() ** 1.6);
  const names = new Set<string>();
  while (names.size < count) {
    const group = random.chance(0.8) ? authorsByTopic[topicIndex]! : random.pick(authorsByTopic);
    names.add(group[Math.floor(group.length * random.next() ** 1.5)]!);
  }
  return [...names].map((name) => ({ name }));
}

function pickOrganization(random: SeededRandom, topicName: string): DemoOrganization {
  const specialists = ORGANIZATIONS_BY_TOPIC.get(topicName) ?? [];
  return specialists.length > 0 && random.chance(0.85) ? random.pick(specialists) : random.pick(ORGANIZATIONS);
}

/** A new-style id (YYMM.NNNNN) of the publication month, numbered by the time within the month as arXiv's roughly are. */
function claimArxivId(random: SeededRandom, publishedAt: Date, taken: Set<string>): string {
  const year = publishedAt.getUTCFullYear();
  const month = publishedAt.getUTCMonth();
  const monthStart = Date.UTC(year, month, 1);
  const fractionOfMonth = (publishedAt.getTime() - monthStart) / (Date.UTC(year, month + 1, 1) - monthStart);
  const prefix = `${String(year % 100).padStart(2, '0')}${String(month + 1).padStart(2, '0')}`;
  const format = (number: number) => `${prefix}.${String(number).padStart(5, '0')}`;
  let number = 1 + Math.floor(fractionOfMonth * 28_000) + random.int(0, 400);
  while (taken.has(format(number))) number++;
  taken.add(format(number));
  return format(number);
}

/**
 * Every user upvotes a share of the papers, mostly from one or two favourite
 * topics and preferring papers of high appeal (log-normal, so a few papers are
 * clearly popular). Papers are drawn without replacement, so no user votes
 * twice on a paper.
 */
function castUpvotes(
  random: SeededRandom,
  papers: readonly DemoPaper[],
  users: readonly DemoUser[],
  now: Date,
  world: DemoWorld,
): { upvotes: DemoUpvote[]; truth: DemoTruth } {
  const appeal = papers.map(() => Math.exp(world.appealSpread * random.normal()));
  const topicIndexes = papers.map((paper) => TOPIC_INDEX.get(paper.topic)!);
  const topicAffinity: number[][] = [];
  const upvotes = users.flatMap((user) => {
    const affinity = favouriteTopicAffinity(random, world);
    topicAffinity.push(affinity);
    // Draws nothing extra in the demo world, whose data stays as it was.
    const voteCount =
      world.newReaderShare > 0 && random.chance(world.newReaderShare)
        ? random.int(2, 3)
        : Math.max(MIN_VOTES, Math.round(world.voteRate * papers.length * (0.01 + 0.2 * random.next() ** 2)));
    // Weighted sampling without replacement (Efraimidis-Spirakis): keep the largest ln(u)/weight.
    const keyed = papers.map((paper, index) => ({
      paper,
      key: Math.log(1 - random.next()) / (appeal[index]! * affinity[topicIndexes[index]!]!),
    }));
    keyed.sort((a, b) => b.key - a.key);
    return keyed.slice(0, Math.max(1, voteCount)).map(({ paper }) => ({
      username: user.username,
      arxivId: paper.arxivId,
      createdAt: voteTime(random, paper.submittedAt, now),
    }));
  });
  return { upvotes, truth: { appeal, topicAffinity } };
}

function favouriteTopicAffinity(random: SeededRandom, world: DemoWorld): number[] {
  const [first, second] = random.sample(
    TOPICS.map((_, index) => index),
    random.chance(world.secondTopicChance) ? 2 : 1,
  );
  return TOPICS.map((_, index) => (index === first ? 1 : index === second ? world.secondTopicWeight : 0.03));
}

const MEAN_VOTE_DELAY_MS = 36 * HOUR_MS;

/** Most votes come within a day or two of a paper being featured: an exponential delay, truncated at `now`. */
function voteTime(random: SeededRandom, submittedAt: Date, now: Date): Date {
  const window = now.getTime() - submittedAt.getTime();
  const delay = -MEAN_VOTE_DELAY_MS * Math.log(1 - random.next() * (1 - Math.exp(-window / MEAN_VOTE_DELAY_MS)));
  return new Date(submittedAt.getTime() + Math.min(Math.floor(delay), window));
}

/** The chance that a vote on a paper featured at `submittedAt` (drawn as voteTime draws it) is cast after `after`. */
export function chanceOfVoteAfter(submittedAt: Date, after: Date, now: Date): number {
  const elapsed = after.getTime() - submittedAt.getTime();
  if (elapsed <= 0) return 1;
  const window = now.getTime() - submittedAt.getTime();
  const beyond = Math.exp(-window / MEAN_VOTE_DELAY_MS);
  return Math.max(0, (Math.exp(-elapsed / MEAN_VOTE_DELAY_MS) - beyond) / (1 - beyond));
}

/** A user's affinity for a paper's topic times the paper's appeal: how likely the generator made them upvote it. */
export function trueAppealFor(truth: DemoTruth, userIndex: number, paper: DemoPaper, paperIndex: number): number {
  return truth.appeal[paperIndex]! * truth.topicAffinity[userIndex]![TOPIC_INDEX.get(paper.topic)!]!;
}
