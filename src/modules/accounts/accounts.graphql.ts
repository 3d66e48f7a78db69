import { eq } from 'drizzle-orm';
import { enqueueInBackground } from '../../job-queue';
import { users } from '../../db/schema';
import { builder } from '../../graphql/builder';
import type { Context } from '../../graphql/context';
import { UserRef } from '../../graphql/node-refs';
import { AppError } from '../../errors';
import { logIn, signUp, type AuthResult } from './accounts';
import { verifyEmail } from './email-verification';
import { revokeSession, type Viewer } from './sessions';

/** The signed-in viewer, or UNAUTHENTICATED. */
export function requireViewer(context: Context): Viewer {
  if (!context.viewer) throw new AppError('UNAUTHENTICATED', 'Log in first: send "Authorization: Bearer <token>".');
  return context.viewer;
}

/** The signed-in viewer if they are an admin; UNAUTHENTICATED or FORBIDDEN otherwise. */
export function requireAdmin(context: Context): Viewer {
  const viewer = requireViewer(context);
  if (viewer.user.role !== 'admin') throw new AppError('FORBIDDEN', 'Only admins may do this.');
  return viewer;
}

const AuthPayload = builder.objectRef<AuthResult>('AuthPayload').implement({
  description: 'A new session.',
  fields: (t) => ({
    token: t.exposeString('token', {
      description: 'The session token: send it as "Authorization: Bearer <token>". Shown once; keep it secret.',
    }),
    user: t.field({ type: UserRef, description: 'The signed-in user.', resolve: (result) => result.user }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The signed-in user; null when anonymous.',
    resolve: (_root, _args, context) => context.viewer?.user ?? null,
  }),
);

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayload,
    description:
      'Create an account and sign in. Usernames: 3-30 letters, digits, "-" or "_", unique regardless of case (CONFLICT if taken); ' +
      'passwords: 8-256 characters (Unicode code points once NFKC-normalized; a lone surrogate is BAD_USER_INPUT). ' +
      'The email address is mailed a verification link ({publicUrl}/verify-email?token=..., see verifyEmail) and signs in only once ' +
      'verified. The answer is the same whether or not the address has an account: if it has, the new account gets no claim on it ' +
      'and the address is mailed a notice instead.',
    args: {
      username: t.arg.string({ required: true, description: 'The unique handle.' }),
      email: t.arg.string({ required: true, description: 'An email address, to be verified by the link mailed to it.' }),
      password: t.arg.string({ required: true, description: 'At least 8 characters.' }),
    },
    resolve: async (_root, args, context) => {
      await context.limiters.auth.consume(`address:${context.clientAddress}`);
      const result = await signUp(context.db, context.config, args, context.now);
      // A new username now has a public page: only answers that found no such user end.
      void context.publicDataChanges.announce({ kind: 'entities', entities: [{ typename: 'User' }] });
      // Past the address's allowance no mail goes out, and the answer stays the same: it must not tell whether the address has an account.
      const mayMail = await context.limiters.accountMails.consume(`email:${args.email.trim().toLowerCase()}`).then(
        () => true,
        () => false,
      );
      if (mayMail) enqueueInBackground(context.jobs, context.logger, 'send-email-verification', { userId: result.user.id });
      else context.logger.info({ userId: result.user.id }, 'account mail not sent: the address had its allowance this hour');
      return result;
    },
  }),
  logIn: t.field({
    type: AuthPayload,
    description:
      'Sign in with a username or email and the password. RATE_LIMITED (`extensions.retryAfter` in seconds) past a few attempts ' +
      'a minute from one client address, or a few failed passwords for one name from one address (two an hour while many addresses ' +
      'fail for that name); an address that has not failed for a name is never refused for it.',
    args: {
      usernameOrEmail: t.arg.string({ required: true, description: 'The username or the email address.' }),
      password: t.arg.string({ required: true, description: 'The password.' }),
    },
    resolve: (_root, args, context) => logIn(context.db, context.config, context.limiters, context.clientAddress, args, context.now),
  }),
  verifyEmail: t.boolean({
    description:
      "Verify an account's email address with the token of the link mailed to it after signUp ({publicUrl}/verify-email?token=...); " +
      'the address then signs in. NOT_FOUND for an unknown, used or replaced token; CONFLICT when another account verified the ' +
      'address first.',
    args: { token: t.arg.string({ required: true, description: 'The `token` parameter of the verification link.' }) },
    resolve: async (_root, args, context) => {
      await verifyEmail(context.db, args.token);
      return true;
    },
  }),
  logOut: t.boolean({
    description: 'Revoke the session whose token this request carries.',
    resolve: async (_root, _args, context) => {
      const { sessionId } = requireViewer(context);
      await revokeSession(context.db, sessionId, context.now);
      // Every process that kept the session drops it (this one before the answer goes out).
      void context.publicDataChanges.announce({ kind: 'sessions-ended', sessionIds: [sessionId] });
      return true;
    },
  }),
}));

builder.objectField(UserRef, 'emailVerified', (t) =>
  t.boolean({
    nullable: true,
    description: "Whether the account's email address is verified (it signs in only then). Only for the signed-in user's own account: null for others.",
    resolve: async (user, _args, context) => {
      if (context.viewer?.user.id !== user.id) return null;
      const [account] = await context.db.select({ email: users.email }).from(users).where(eq(users.id, user.id));
      return Boolean(account?.email);
    },
  }),
);
