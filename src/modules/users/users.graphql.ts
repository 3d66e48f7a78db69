import { builder } from '../../graphql/builder';
import { UserRef } from '../../graphql/node-refs';
import { paperListField } from '../papers/papers.graphql';
import { findUserByUsername } from './users.queries';

UserRef.implement({
  description: 'A person with an account: submits, upvotes and discusses papers.',
  fields: (t) => ({
    username: t.exposeString('username', { description: 'Unique handle (case-insensitive).' }),
    displayName: t.exposeString('displayName', { nullable: true, description: 'The name shown on the site.' }),
    avatarUrl: t.exposeString('avatarUrl', { nullable: true, description: 'URL of their avatar.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the account was created.' }),
    submittedPapers: paperListField(t, {
      description: 'Papers they submitted to Daily Papers, newest submission first unless ordered otherwise.',
      defaultOrder: 'SUBMITTED_AT',
      criteria: (user) => ({ submittedById: user.id }),
    }),
  }),
});

builder.queryField('user', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'A user by username (case-insensitive); null when unknown.',
    args: { username: t.arg.string({ required: true, description: 'The username.' }) },
    resolve: async (_root, { username }, context) => (await findUserByUsername(context.db, username)) ?? null,
  }),
);
