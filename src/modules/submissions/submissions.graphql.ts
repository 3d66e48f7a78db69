import { enqueueInBackground } from '../../job-queue';
import { builder } from '../../graphql/builder';
import { PaperRef } from '../../graphql/node-refs';
import { requireViewer } from '../accounts/accounts.graphql';
import { updatePaperLinks } from './paper-links';
import { SUBMISSION_LIMITS, submitPaper } from './submissions';

const SubmitPaperInput = builder.inputType('SubmitPaperInput', {
  description:
    'A paper to feature in Daily Papers. Only arxivId is required. Title, abstract, authors and publishedAt come from the paper as stored if it is, ' +
    "else from the arXiv API: given values only fill what arXiv's entry lacks. organization, githubRepo and projectPage, when given, win. " +
    'Text is refused with BAD_USER_INPUT if it holds control characters or a lone surrogate; single-line fields have their white space collapsed to one space; lengths count characters (code points).',
  fields: (t) => ({
    arxivId: t.string({
      required: true,
      description: 'A new-style arXiv id, e.g. "2306.13229" or "2306.13229v2" (the version is dropped).',
    }),
    title: t.string({ description: `The title, one line of at most ${SUBMISSION_LIMITS.title} characters; used only if arXiv's entry has none.` }),
    abstract: t.string({ description: `The abstract, at most ${SUBMISSION_LIMITS.abstract} characters; used only if arXiv's entry has none.` }),
    authors: t.stringList({
      description: `The author names in the paper's order: 1 to ${SUBMISSION_LIMITS.authors}, each at most ${SUBMISSION_LIMITS.authorName} characters; used only if arXiv's entry has none.`,
    }),
    publishedAt: t.field({
      type: 'DateTime',
      description: "When the paper appeared on arXiv (version 1); used only if arXiv's entry has none, and may not lie ahead.",
    }),
    organization: t.string({
      description: `The organization it is published under, by name (1 to ${SUBMISSION_LIMITS.organization} characters); created if new.`,
    }),
    githubRepo: t.string({ description: `URL of the code repository: http(s), at most ${SUBMISSION_LIMITS.url} characters.` }),
    projectPage: t.string({ description: `URL of the project page: http(s), at most ${SUBMISSION_LIMITS.url} characters.` }),
  }),
});

builder.mutationField('submitPaper', (t) =>
  t.field({
    type: PaperRef,
    description:
      'Feature a paper in Daily Papers (signed in). A paper the site does not know yet is looked up on arXiv first, even when the input ' +
      "describes it: arXiv's title, abstract, authors and date are stored, the submitter's organization, githubRepo and projectPage kept. " +
      'CONFLICT if it is already featured; NOT_FOUND if arXiv has no such paper (nothing is written); ' +
      'BAD_USER_INPUT for invalid input (`extensions.field` names it) or a paper older than the submission window allows; ' +
      'RATE_LIMITED with `extensions.retryAfter` past the daily submission limit (`extensions.reason` DAILY_SUBMISSION_LIMIT) ' +
      'or when arXiv cannot be asked right now (`extensions.reason` ARXIV_UNAVAILABLE; nothing is written). Returns the featured paper.',
    args: { input: t.arg({ type: SubmitPaperInput, required: true, description: 'The paper to feature.' }) },
    resolve: async (_root, { input }, context) => {
      const { user } = requireViewer(context);
      const paper = await submitPaper(context, user, input, context.now);
      // The paper (featured now), and answers that found no such paper; lists gain it within their short lifetime.
      void context.publicDataChanges.announce({ kind: 'entities', entities: [{ typename: 'Paper', id: paper.id }, { typename: 'Paper' }] });
      enqueueInBackground(
        context.jobs,
        context.logger,
        'refresh-similar-papers',
        { paperId: paper.id },
        {
          deduplicationId: `paper:${paper.id}`,
        },
      );
      // Its followers' NEW_PAPER notifications (never the submitter's own).
      enqueueInBackground(
        context.jobs,
        context.logger,
        'notify',
        { kind: 'NEW_PAPER', paperIds: [paper.id] },
        { deduplicationId: `new-paper:${paper.id}` },
      );
      return paper;
    },
  }),
);

builder.mutationField('updatePaperLinks', (t) =>
  t.field({
    type: PaperRef,
    description:
      "Set a paper's code repository and project page (signed in): its submitter or one of its verified authors only (FORBIDDEN otherwise, " +
      'NOT_FOUND for an unknown paper). A field left out stays as it is; null clears it; at least one must be given. ' +
      'Imports keep links set here. BAD_USER_INPUT for an invalid URL (`extensions.field` names it). Returns the paper.',
    args: {
      paperId: t.arg.globalID({ required: true, for: [PaperRef], description: 'The Paper ID.' }),
      githubRepo: t.arg.string({
        description: `The GitHub repository, e.g. "https://github.com/owner/repo" (at most ${SUBMISSION_LIMITS.url} characters); null clears it.`,
      }),
      projectPage: t.arg.string({ description: `The project page: an http(s) URL of at most ${SUBMISSION_LIMITS.url} characters; null clears it.` }),
    },
    resolve: async (_root, args, context) => {
      const { user } = requireViewer(context);
      const paper = await updatePaperLinks(context.db, {
        paperId: args.paperId.id,
        userId: user.id,
        githubRepo: args.githubRepo,
        projectPage: args.projectPage,
        at: context.now,
      });
      void context.publicDataChanges.announce({ kind: 'entities', entities: [{ typename: 'Paper', id: args.paperId.id }] });
      return paper;
    },
  }),
);
