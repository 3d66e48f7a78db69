import DataLoader from 'dataloader';
import type { Database } from '../../db/client';
import type { Page, PageRequest } from '../../db/keyset';
import type { CommentRow } from '../../db/schema';
import { countCommentsOfThreads, listCommentPages, type CommentThread } from './comments.queries';

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
 * Per-request batching of comment lists, so a page of papers or comments that
 * each show their first comments or replies costs one statement per distinct
 * page request, however many threads it shows.
 */
export function createCommentLoaders(db: Database) {
  return {
    commentPage: new DataLoader<ThreadPageKey, Page<CommentRow>, string>(
      async (keys) => {
        const pages = new Map<string, Page<CommentRow>>();
        const groups = groupBy(keys, (key) => JSON.stringify([key.thread, key.request]));
        await Promise.all(
          [...groups.values()].map(async (group) => {
            const { thread, request } = group[0]!;
            const byThread = await listCommentPages(db, thread, group.map((key) => key.id), request);
            for (const key of group) pages.set(pageKey(key), byThread.get(key.id)!);
          }),
        );
        return keys.map((key) => pages.get(pageKey(key))!);
      },
      { cacheKeyFn: pageKey },
    ),
    commentCount: new DataLoader<ThreadKey, number, string>(
      async (keys) => {
        const counts = new Map<string, number>();
        await Promise.all(
          [...groupBy(keys, (key) => key.thread).values()].map(async (group) => {
            const byThread = await countCommentsOfThreads(db, group[0]!.thread, group.map((key) => key.id));
            for (const key of group) counts.set(threadKey(key), byThread.get(key.id) ?? 0);
          }),
        );
        return keys.map((key) => counts.get(threadKey(key))!);
      },
      { cacheKeyFn: threadKey },
    ),
  };
}

const threadKey = (key: ThreadKey) => `${key.thread}:${key.id}`;
const pageKey = (key: ThreadPageKey) => JSON.stringify([key.thread, key.id, key.request]);
