import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import postgres from 'postgres';
import { loadConfig } from '../../config';
import { TRENDING_EPOCH_MS, decayRates, hoursSinceEpoch } from '../../modules/trending/trending-key';

/**
 * The bare peer of `npm run bench`: node:http and postgres.js running the SQL
 * each GraphQL scenario needs, with nothing else (no parsing, validation,
 * limits, loaders, logging). Run as its own process, like the API, so neither
 * shares a CPU with the load generator. Env: DATABASE_URL, PORT, DB_POOL_SIZE.
 */
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const trendingSettings = loadConfig().trending;
const sql = postgres(databaseUrl, { max: Number(process.env.DB_POOL_SIZE ?? 10), onnotice: () => {} });

interface PaperListRow {
  id: number;
  arxiv_id: string;
  title: string;
  upvote_count: number;
  trending_key: number;
}

/** A page of papers with their authors (position order), as the GraphQL connection returns them. */
async function withAuthors(rows: readonly PaperListRow[], limit: number) {
  const page = rows.slice(0, limit);
  const ids = page.map((row) => row.id);
  const authorRows = await sql<{ paper_id: number; name: string; author_id: number; author_name: string }[]>`
    select pa.paper_id, pa.name, a.id as author_id, a.name as author_name
    from paper_authors pa join authors a on a.id = pa.author_id
    where pa.paper_id = any(${ids}::int[]) order by pa.paper_id, pa.position`;
  const authorsByPaper = new Map<number, { name: string; author: { id: number; name: string } }[]>();
  for (const row of authorRows) {
    const list = authorsByPaper.get(row.paper_id) ?? [];
    list.push({ name: row.name, author: { id: row.author_id, name: row.author_name } });
    authorsByPaper.set(row.paper_id, list);
  }
  return {
    papers: page.map((row) => ({ ...row, authors: authorsByPaper.get(row.id) ?? [] })),
    hasNextPage: rows.length > limit,
  };
}

/** The signed-in user of a bearer token, as the API checks it on every request. */
async function viewerId(request: IncomingMessage): Promise<number | undefined> {
  const token = request.headers.authorization?.replace(/^Bearer /, '');
  if (!token) return undefined;
  const tokenHash = createHash('sha256').update(token).digest('hex');
  const [row] = await sql<{ user_id: number }[]>`
    select s.user_id from sessions s join users u on u.id = s.user_id
    where s.token_hash = ${tokenHash} and s.revoked_at is null and s.expires_at > now()`;
  return row?.user_id;
}

/** The trending page in one statement: 50 papers with title, abstract, publication time, upvotes, organization and authors in order. */
async function trending() {
  const rows = await sql<
    { arxiv_id: string; title: string; abstract: string; published_at: Date; upvote_count: number; organization: string | null; authors: string[] }[]
  >`
    select p.arxiv_id, p.title, p.abstract, p.published_at, p.upvote_count, o.name as organization,
      array(select pa.name from paper_authors pa where pa.paper_id = p.id order by pa.position) as authors
    from (select * from papers order by trending_key desc, id desc limit 50) p
    left join organizations o on o.id = p.organization_id
    order by p.trending_key desc, p.id desc`;
  return rows.map((row) => ({
    arxivId: row.arxiv_id,
    title: row.title,
    abstract: row.abstract,
    publishedAt: row.published_at,
    upvotes: row.upvote_count,
    organization: row.organization === null ? null : { name: row.organization },
    authors: row.authors.map((name) => ({ name })),
  }));
}

async function daily(date: string) {
  const rows = await sql<PaperListRow[]>`
    select id, arxiv_id, title, upvote_count, trending_key from papers
    where submitted_at >= ${date}::date and submitted_at < ${date}::date + 1
    order by upvote_count desc, id desc limit 51`;
  return withAuthors(rows, 50);
}

async function paperWithSimilar(arxivId: string) {
  const [paper] = await sql<(PaperListRow & { abstract: string })[]>`
    select id, arxiv_id, title, abstract, upvote_count, trending_key from papers where arxiv_id = ${arxivId}`;
  if (!paper) return null;
  const { papers } = await withAuthors([paper], 1);
  const similar = await sql`
    select p.id, p.arxiv_id, p.title, p.upvote_count from similar_papers s join papers p on p.id = s.similar_paper_id
    where s.paper_id = ${paper.id} order by s.rank limit 5`;
  return { ...papers[0], similarPapers: similar };
}

async function search(query: string) {
  return sql`
    select id, arxiv_id, title, upvote_count from papers, websearch_to_tsquery('english', ${query}) q
    where search_vector @@ q order by ts_rank(search_vector, q) desc, id desc limit 21`;
}

/** The vote path of the API, as one statement: the vote inserted once, the paper's count and key updated when it was. */
async function upvote(request: IncomingMessage, body: string) {
  const userId = await viewerId(request);
  if (userId === undefined) return { error: 'UNAUTHENTICATED' };
  const { paperId } = JSON.parse(body) as { paperId: number };
  const { lambda, mu } = decayRates(trendingSettings);
  const now = new Date();
  const voteTerm = lambda * hoursSinceEpoch(now);
  // Every vote weighs here: the API's check that the voter is not the submitter or an author is left out.
  // The key is computed from the row the UPDATE locked (not from a snapshot), so concurrent votes compose.
  const age = sql`(${mu}::float8 * ((extract(epoch from coalesce(p.submitted_at, p.published_at))::float8 * 1000 - ${TRENDING_EPOCH_MS}) / 3600000))`;
  const decayed = sql`(p.trending_key - ${age})`;
  const [updated] = await sql<{ upvote_count: number }[]>`
    with inserted as (
      insert into upvotes (paper_id, user_id, created_at)
      select ${paperId}, ${userId}, ${now} where exists (select 1 from papers where id = ${paperId})
      on conflict do nothing returning paper_id)
    update papers p set upvote_count = p.upvote_count + 1, updated_at = ${now},
      trending_key = greatest(${decayed}, ${voteTerm}::float8) + ln(1 + exp(greatest(-abs(${decayed} - ${voteTerm}::float8), -700))) + ${age}
    where p.id in (select paper_id from inserted)
    returning p.upvote_count`;
  if (updated) return { upvotes: updated.upvote_count, viewerHasUpvoted: true };
  const [paper] = await sql<{ upvote_count: number }[]>`select upvote_count from papers where id = ${paperId}`;
  return paper ? { upvotes: paper.upvote_count, viewerHasUpvoted: true } : { error: 'NOT_FOUND' };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

async function route(request: IncomingMessage): Promise<unknown> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const param = (name: string) => url.searchParams.get(name) ?? '';
  switch (url.pathname) {
    case '/health':
      return { ok: true };
    case '/trending':
      return trending();
    case '/daily':
      return daily(param('date'));
    case '/paper':
      return paperWithSimilar(param('arxivId'));
    case '/search':
      return search(param('q'));
    case '/upvote':
      return upvote(request, await readBody(request));
    default:
      return undefined;
  }
}

const HELLO = JSON.stringify({ hello: 'world' });

const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  // The ceiling of a node:http server on this machine: what a cached answer is measured against.
  if (request.url === '/hello') {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': HELLO.length }).end(HELLO);
    return;
  }
  route(request).then(
    (data) => {
      response.writeHead(data === undefined ? 404 : 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ data }));
    },
    (error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errors: [{ message: String(error) }] }));
    },
  );
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');

process.on('SIGTERM', () => {
  server.close();
  void sql.end({ timeout: 2 }).then(() => process.exit(0));
});
