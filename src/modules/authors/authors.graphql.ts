import { builder } from '../../graphql/builder';
import { paperCountOfAuthorLoader } from '../../graphql/loaders';
import { AuthorRef, UserRef } from '../../graphql/node-refs';
import { paperListField } from '../papers/papers.graphql';

AuthorRef.implement({
  description: 'A person named on papers.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The name as printed on papers.' }),
    user: t.field({
      type: UserRef,
      nullable: true,
      description: 'The account that claimed this author, once verified.',
      resolve: (author) => author.userId,
    }),
    paperCount: t.int({
      description: 'How many papers list this author on their page.',
      resolve: (author, _args, context) => paperCountOfAuthorLoader(context).load(author.id),
    }),
    papers: paperListField(t, {
      description: "The author's papers (those they did not hide).",
      defaultOrder: 'PUBLISHED_AT',
      criteria: (author) => ({ authorId: author.id }),
    }),
  }),
});

builder.queryField('author', (t) =>
  t.field({
    type: AuthorRef,
    nullable: true,
    description: 'An author by ID; null when unknown.',
    args: { id: t.arg.globalID({ required: true, for: [AuthorRef], description: 'An Author ID.' }) },
    resolve: (_root, { id }) => id.id,
  }),
);
