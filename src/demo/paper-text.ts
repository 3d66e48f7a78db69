import type { SeededRandom } from './random';
import type { Topic } from './topics';

export interface PaperText {
  /** The method's short name, e.g. "ZORA"; also names the demo repository and project page. */
  acronym: string;
  title: string;
  abstract: string;
  aiSummary: string;
  keywords: string[];
}

const ACRONYM_SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'ze', 'to', 'vi', 'no', 'da', 'su', 'xe', 'bri', 'ta', 'lu', 'mo', 'ne', 'fa', 'ri', 'co', 'pi'];
const ACRONYM_SUFFIXES = ['', '', '', '', '-R1', '-2', '++', '-V'];
const TITLE_ADJECTIVES = [
  'Scalable',
  'Efficient',
  'Robust',
  'Unified',
  'Adaptive',
  'Self-Improving',
  'Training-Free',
  'Hierarchical',
  'Lightweight',
  'Generalizable',
  'Data-Efficient',
  'Interpretable',
];
/** Adjectives that read well before a subject, as in "Towards Reliable Visual Grounding". */
const GOAL_ADJECTIVES = ['Robust', 'Efficient', 'Scalable', 'Reliable', 'Generalizable', 'Faithful'];
const TITLE_GERUNDS = ['Scaling', 'Rethinking', 'Improving', 'Advancing', 'Unlocking', 'Boosting', 'Revisiting'];
const PROGRESS = [
  'has advanced rapidly in recent years',
  'has attracted growing attention',
  'underpins a wide range of applications',
  'has seen remarkable progress',
];
const PRIOR_WORK = ['Existing approaches', 'Current methods', 'Previous methods'];
const LIMITATIONS = [
  'rely on expensive human annotation',
  'require task-specific tuning that does not transfer',
  'trade quality for speed',
  'are evaluated on narrow benchmarks that hide their failure modes',
  'assume access to privileged information at test time',
  'struggle when the data distribution shifts',
];
const INTRODUCTIONS = ['In this paper, we introduce', 'To address this, we propose', 'We present'];
const CLOSINGS = [
  'Code and models are publicly available.',
  'We release our code, data and checkpoints to facilitate future research.',
  'Extensive ablations confirm that each component contributes to the final performance.',
  'Our analysis also sheds light on when and why the approach fails.',
];

interface TitleParts {
  acronym: string;
  adjective: string;
  goal: string;
  gerund: string;
  method: string;
  subject: string;
}

const TITLE_TEMPLATES: readonly ((parts: TitleParts) => string)[] = [
  (p) => `${p.acronym}: ${p.adjective} ${p.method} for ${p.subject}`,
  (p) => `${p.acronym}: ${p.gerund} ${p.subject} with ${indefiniteArticle(p.adjective)} ${p.adjective} ${p.method}`,
  (p) => `${p.gerund} ${p.subject} via ${p.method}`,
  (p) => `${p.adjective} ${p.method} for ${p.subject}`,
  (p) => `${p.acronym}: Towards ${p.goal} ${p.subject}`,
  (p) => `${p.acronym}: ${indefiniteArticle(p.adjective, true)} ${p.adjective} ${p.method} for ${p.subject}`,
];

/** Composes a paper's text from its topic's vocabulary. */
export function composePaperText(random: SeededRandom, topic: Topic): PaperText {
  const acronym = composeAcronym(random);
  const [subject, otherSubject] = random.sample(topic.subjects, 2) as [string, string];
  const method = random.pick(topic.methods);
  const [mechanism, otherMechanism] = random.sample(topic.mechanisms, 2) as [string, string];
  const [benchmark, otherBenchmark] = random.sample(topic.benchmarks, 2) as [string, string];
  const adjective = random.pick(TITLE_ADJECTIVES);
  const result = composeResult(random);

  const title = random.pick(TITLE_TEMPLATES)({
    acronym,
    adjective,
    goal: random.pick(GOAL_ADJECTIVES),
    gerund: random.pick(TITLE_GERUNDS),
    method: titleCase(method),
    subject: titleCase(subject),
  });
  const lowerAdjective = adjective.toLowerCase();
  const sentences = [
    `${capitalize(subject)} ${random.pick(PROGRESS)}, yet ${random.pick(topic.challenges)}.`,
    `${random.pick(PRIOR_WORK)} ${random.pick(LIMITATIONS)}.`,
    `${random.pick(INTRODUCTIONS)} ${acronym}, ${indefiniteArticle(lowerAdjective)} ${lowerAdjective} ${method} that ${mechanism}.`,
    `In addition, ${acronym} ${otherMechanism}, which matters for ${otherSubject}.`,
    `Experiments on ${benchmark} and ${otherBenchmark} show that ${acronym} ${result}.`,
  ];
  if (random.chance(0.6)) sentences.push(random.pick(CLOSINGS));

  return {
    acronym,
    title,
    abstract: sentences.join(' '),
    aiSummary: `${acronym} ${mechanism}, which ${result} on ${benchmark}.`,
    keywords: random.sample(topic.keywords, random.int(3, 6)),
  };
}

function composeAcronym(random: SeededRandom): string {
  const syllables = Array.from({ length: random.int(2, 3) }, () => random.pick(ACRONYM_SYLLABLES));
  return syllables.join('').slice(0, 6).toUpperCase() + random.pick(ACRONYM_SUFFIXES);
}

function composeResult(random: SeededRandom): string {
  const percent = random.int(3, 40);
  const factor = random.int(2, 10);
  return random.pick([
    `improves over the strongest baseline by ${percent}%`,
    `matches the quality of models ${factor}x larger`,
    `reduces the error rate by ${percent}% relative to prior work`,
    'sets a new state of the art',
    `outperforms prior methods while using ${factor}x less compute`,
  ]);
}

const SMALL_WORDS = new Set(['a', 'an', 'and', 'for', 'from', 'in', 'of', 'on', 'the', 'to', 'via', 'with']);

/** "chain-of-thought reasoning in large language models" -> "Chain-of-Thought Reasoning in Large Language Models". */
function titleCase(phrase: string): string {
  const capitalizeUnlessSmall = (word: string, index: number) => (index > 0 && SMALL_WORDS.has(word) ? word : capitalize(word));
  return phrase
    .split(' ')
    .map((word, index) => (index > 0 && SMALL_WORDS.has(word) ? word : word.split('-').map(capitalizeUnlessSmall).join('-')))
    .join(' ');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function indefiniteArticle(word: string, capitalized = false): string {
  const article = /^[aeiou]/i.test(word) ? 'an' : 'a';
  return capitalized ? capitalize(article) : article;
}
