import DataLoader from 'dataloader';
import type { Page, PageRequest } from '../../db/keyset';
import type { CommentRow } from '../../db/schema';
import { loader, type Context } from '../../graphql/context';
import { countCommentsOfThreads, findPaperAuthorUsers, listCommentPages, type CommentThread, type UserOnPaper } from './comments.queries';

/** A thread: the top-level comments of the paper `id`, or the replies to the comment `id`. */
interface ThreadKey {
  thread: CommentThread;
  id: number;
}

interface ThreadPageKey extends ThreadKey {
  request: PageRequest;
}

/** Groups keys that one statement can answer together. */
function groupBy<Key>(keys: readonly Key[], groupOf: (key: Key) => string): Map<string, Key[]> {
  const groups = new Map<string, Key[]>();
  for (const key of keys) {
    const name = groupOf(key);
    const group = groups.get(name);
    if (group) group.push(key);
    else groups.set(name, [key]);
  }
  return groups;
}

/**
 * A page of a thread, batched per request: a page of papers or comments that
 * each show their first comments or replies costs one statement per distinct
 * page request, however many threads it shows.
 */
export const commentPageLoader = (context: Context) =>
  loader(
    context,
    'commentPage',
    () =>
      new DataLoader<ThreadPageKey, Page<CommentRow>, string>(
        async (keys) => {
          const pages = new Map<string, Page<CommentRow>>();
          const groups = groupBy(keys, (key) => JSON.stringify([key.thread, key.request]));
          await Promise.all(
            [...groups.values()].map(async (group) => {
              const { thread, request } = group[0]!;
              const byThread = await listCommentPages(
                context.db,
                thread,
                group.map((key) => key.id),
                request,
              );
              for (const key of group) pages.set(pageKey(key), byThread.get(key.id)!);
            }),
          );
          return keys.map((key) => pages.get(pageKey(key))!);
        },
        { cacheKeyFn: pageKey },
      ),
  );

/** How many comments a thread has, batched per request: one statement per kind of thread. */
export const commentCountLoader = (context: Context) =>
  loader(
    context,
    'commentCount',
    () =>
      new DataLoader<ThreadKey, number, string>(
        async (keys) => {
          const counts = new Map<string, number>();
          await Promise.all(
            [...groupBy(keys, (key) => key.thread).values()].map(async (group) => {
              const byThread = await countCommentsOfThreads(
                context.db,
                group[0]!.thread,
                group.map((key) => key.id),
              );
              for (const key of group) counts.set(threadKey(key), byThread.get(key.id) ?? 0);
            }),
          );
          return keys.map((key) => counts.get(threadKey(key))!);
        },
        { cacheKeyFn: threadKey },
      ),
  );

const threadKey = (key: ThreadKey) => `${key.thread}:${key.id}`;
const pageKey = (key: ThreadPageKey) => JSON.stringify([key.thread, key.id, key.request]);

/** Whether a user is an author of a paper (Comment.isByPaperAuthor), batched per request: one statement. */
export const isPaperAuthorLoader = (context: Context) =>
  loader(
    context,
    'isPaperAuthor',
    () =>
      new DataLoader<UserOnPaper, boolean, string>(
        async (pairs) => {
          const authorUsers = await findPaperAuthorUsers(context.db, pairs);
          return pairs.map((pair) => authorUsers.has(userOnPaperKey(pair)));
        },
        { cacheKeyFn: userOnPaperKey },
      ),
  );

const userOnPaperKey = (pair: UserOnPaper) => `${pair.paperId}:${pair.userId}`;
