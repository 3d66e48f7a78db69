import { enqueueInBackground } from '../../job-queue';
import type { AuthorshipClaimRow } from '../../db/schema';
import { AppError } from '../../errors';
import { builder } from '../../graphql/builder';
import { pageRequestFrom, toConnection } from '../../graphql/connection';
import type { Context } from '../../graphql/context';
import { AuthorRef, UserRef } from '../../graphql/node-refs';
import { requireAdmin, requireViewer } from '../accounts/accounts.graphql';
import { claimAuthorship, decideClaim, paperIdsOfAuthor, VERIFICATION_REPAIR_DELAY_MS, type ClaimDecision } from './claims';
import { countClaimsOfUser, countPendingClaims, findClaimsByIds, listClaimsOfUser, listPendingClaims } from './claims.queries';

/** Whether the viewer may see a claim: it is theirs, or they are an admin. */
const maySee = (context: Context, claim: AuthorshipClaimRow) =>
  context.viewer !== null && (context.viewer.user.role === 'admin' || context.viewer.user.id === claim.userId);

// Only this module refers to claims, so the ref lives here rather than in node-refs.ts.
export const AuthorshipClaimRef = builder.loadableNodeRef<AuthorshipClaimRow, number, number>('AuthorshipClaim', {
  id: { resolve: (claim) => claim.id, parse: (id: string) => Number(id) },
  // A claim someone else may not see answers null, as an unknown ID does.
  load: async (ids: number[], context) => (await findClaimsByIds(context.db, ids)).filter((claim) => maySee(context, claim)),
  sort: (claim) => claim.id,
});

const AuthorshipClaimStatus = builder.enumType('AuthorshipClaimStatus', {
  description: 'Where a claim of authorship stands.',
  values: {
    PENDING: { value: 'pending', description: 'Waiting for an admin to decide.' },
    APPROVED: { value: 'approved', description: "Verified: the claimant is now the author's account." },
    REJECTED: { value: 'rejected', description: 'Turned down by an admin, or because another claim on the author was approved.' },
  } as const,
});

AuthorshipClaimRef.implement({
  description: "A user's claim to be an author, pending until an admin approves or rejects it. Seen only by the claimant and admins.",
  fields: (t) => ({
    author: t.field({ type: AuthorRef, description: 'The author claimed.', resolve: (claim) => claim.authorId }),
    user: t.field({ type: UserRef, description: 'Who claims to be the author.', resolve: (claim) => claim.userId }),
    status: t.field({ type: AuthorshipClaimStatus, description: 'Pending, approved or rejected.', resolve: (claim) => claim.status }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the claim was filed.' }),
    decidedAt: t.expose('decidedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When it was approved or rejected; null while pending.',
    }),
  }),
});

const AuthorshipClaimConnection = builder.connectionObject(
  { type: AuthorshipClaimRef, name: 'AuthorshipClaimConnection', description: 'A page of authorship claims.' },
  { name: 'AuthorshipClaimEdge', description: 'An authorship claim in a page of claims.' },
);

builder.queryField('pendingAuthorshipClaims', (t) =>
  t.field({
    type: AuthorshipClaimConnection,
    description: 'The claims waiting for a decision, oldest first (admins only).',
    args: t.arg.connectionArgs(),
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const page = await listPendingClaims(context.db, pageRequestFrom(args));
      return toConnection(page, () => countPendingClaims(context.db));
    },
  }),
);

builder.objectField(UserRef, 'authorshipClaims', (t) =>
  t.field({
    type: AuthorshipClaimConnection,
    description: "The user's authorship claims, newest first. Only the user and admins may read them (FORBIDDEN otherwise).",
    args: t.arg.connectionArgs(),
    resolve: async (user, args, context) => {
      const viewer = requireViewer(context);
      if (viewer.user.id !== user.id && viewer.user.role !== 'admin') {
        throw new AppError('FORBIDDEN', "Only the user and admins may read a user's authorship claims.");
      }
      const page = await listClaimsOfUser(context.db, user.id, pageRequestFrom(args));
      return toConnection(page, () => countClaimsOfUser(context.db, user.id));
    },
  }),
);

/** Both admin decisions: admins only, then the decision in one transaction. */
async function decide(context: Context, claimId: number, decision: ClaimDecision) {
  const { user } = requireAdmin(context);
  const claim = await decideClaim(context.db, context.config.trending, { claimId, adminId: user.id, decision, at: context.now });
  // The claimant is told (by the notify job; not when they decided their own claim).
  enqueueInBackground(context.jobs, context.logger, 'notify', { kind: 'CLAIM_DECIDED', claimId: claim.id }, { deduplicationId: `claim:${claim.id}` });
  if (claim.status === 'approved') {
    // The author, the claimant's pages and the weight of votes on the author's papers: rare enough to end every answer.
    void context.publicDataChanges.announce({ kind: 'everything' });
    // Votes that were waiting on the approval's locks were weighed before it: reconcile the author's papers once they landed.
    for (const paperId of await paperIdsOfAuthor(context.db, claim.authorId)) {
      enqueueInBackground(
        context.jobs,
        context.logger,
        'refresh-paper-trending',
        { paperId },
        {
          deduplicationId: `paper:${paperId}`,
          delayMs: VERIFICATION_REPAIR_DELAY_MS,
        },
      );
    }
  }
  return claim;
}

builder.mutationFields((t) => ({
  claimAuthorship: t.field({
    type: AuthorshipClaimRef,
    description:
      'Claim to be an author (signed in). The claim stays pending until an admin decides. CONFLICT when you claimed this author before or the author is already verified.',
    args: { authorId: t.arg.globalID({ required: true, for: [AuthorRef], description: 'The Author ID.' }) },
    resolve: (_root, { authorId }, context) => {
      const { user } = requireViewer(context);
      return claimAuthorship(context.db, { authorId: authorId.id, userId: user.id, at: context.now });
    },
  }),
  approveAuthorshipClaim: t.field({
    type: AuthorshipClaimRef,
    description:
      "Approve a pending claim (admins only): the author is verified for the claimant, the author's other pending claims are rejected, and the author's own upvotes on their papers stop counting in trending. CONFLICT when the claim is not pending.",
    args: { claimId: t.arg.globalID({ required: true, for: [AuthorshipClaimRef], description: 'The AuthorshipClaim ID.' }) },
    resolve: (_root, { claimId }, context) => decide(context, claimId.id, 'approved'),
  }),
  rejectAuthorshipClaim: t.field({
    type: AuthorshipClaimRef,
    description: 'Reject a pending claim (admins only). CONFLICT when the claim is not pending.',
    args: { claimId: t.arg.globalID({ required: true, for: [AuthorshipClaimRef], description: 'The AuthorshipClaim ID.' }) },
    resolve: (_root, { claimId }, context) => decide(context, claimId.id, 'rejected'),
  }),
}));
