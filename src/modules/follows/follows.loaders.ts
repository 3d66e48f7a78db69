import DataLoader from 'dataloader';
import type { FollowRow } from '../../db/schema';
import { loader, type Context } from '../../graphql/context';
import { findFollowsOfUser } from './follows.queries';

/** The signed-in viewer's follows by id (one statement a batch); someone else's follow is null. */
export function viewerFollowLoader(context: Context): DataLoader<number, FollowRow | null> {
  const viewerId = context.viewer?.user.id ?? null;
  return loader(
    context,
    'viewer-follows',
    () =>
      new DataLoader<number, FollowRow | null>(async (ids) => {
        if (viewerId === null) return ids.map(() => null);
        const byId = new Map((await findFollowsOfUser(context.db, viewerId, ids)).map((row) => [row.id, row]));
        return ids.map((id) => byId.get(id) ?? null);
      }),
  );
}
