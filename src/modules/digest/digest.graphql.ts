import { enqueueInBackground } from '../../job-queue';
import { builder } from '../../graphql/builder';
import { confirmSubscription, parseSubscriberEmail, requestSubscription, unsubscribe } from './subscriptions';

const DigestFrequency = builder.enumType('DigestFrequency', {
  description: 'How often the trending digest arrives, at the UTC hour the server is configured with.',
  values: {
    DAILY: {
      description: 'Every weekday: the top trending papers featured since the previous weekday edition (Monday covers Friday to Sunday).',
    },
    WEEKLY: { description: 'Every Monday: the top trending papers featured in the previous ISO week.' },
  } as const,
});

builder.mutationFields((t) => ({
  subscribeToDigest: t.boolean({
    description:
      'Ask for the trending papers by email. A confirmation link is mailed to the address, and the digest starts once it is opened ' +
      '(confirmDigestSubscription). Always true for a valid address, whether or not it is subscribed already, so the answer reveals ' +
      'nothing about it: an address with a confirmed subscription gets no mail and keeps its frequency (to change it, unsubscribe and ' +
      'subscribe again). Asking again for a pending or stopped subscription mails a new link and voids the older ones. ' +
      'BAD_USER_INPUT for an invalid address; RATE_LIMITED (`extensions.retryAfter` in seconds) past a few requests an hour ' +
      'for one address or from one client.',
    args: {
      email: t.arg.string({ required: true, description: 'The address to mail the digest to, e.g. "ada@example.org".' }),
      frequency: t.arg({
        type: DigestFrequency,
        defaultValue: 'DAILY',
        description: 'How often to send it.',
      }),
    },
    resolve: async (_root, args, context) => {
      await context.limiters.digestSubscribeClient.consume(context.clientAddress);
      const email = parseSubscriberEmail(args.email);
      // Counted whether or not a mail goes out, so the limit does not tell either.
      await context.limiters.digestSubscribeEmail.consume(email.toLowerCase());
      const subscriptionId = await requestSubscription(context.db, {
        email,
        frequency: args.frequency ?? 'DAILY',
        now: context.now,
        linkSecret: context.config.digest.linkSecret,
      });
      if (subscriptionId !== undefined) {
        enqueueInBackground(
          context.jobs,
          context.logger,
          'send-digest-confirmation',
          { subscriptionId },
          {
            deduplicationId: `subscription:${subscriptionId}`,
          },
        );
      }
      return true;
    },
  }),
  confirmDigestSubscription: t.boolean({
    description:
      'Start a digest subscription with the token of its confirmation link ({publicUrl}/digest/confirm?token=...). ' +
      'NOT_FOUND for an unknown token or one replaced by a newer confirmation mail; BAD_USER_INPUT for a token already used ' +
      '(`extensions.reason` ALREADY_CONFIRMED, or SUBSCRIPTION_STOPPED when it has been unsubscribed since).',
    args: { token: t.arg.string({ required: true, description: 'The `token` parameter of the confirmation link.' }) },
    resolve: async (_root, args, context) => {
      await confirmSubscription(context.db, args.token, context.now);
      return true;
    },
  }),
  unsubscribeFromDigest: t.boolean({
    description:
      'Stop a digest subscription with the token of the unsubscribe link every digest carries ({publicUrl}/digest/unsubscribe?token=...). ' +
      'Idempotent: unsubscribing again is true and changes nothing. NOT_FOUND for an unknown token.',
    args: { token: t.arg.string({ required: true, description: 'The `token` parameter of the unsubscribe link.' }) },
    resolve: async (_root, args, context) => {
      await unsubscribe(context.db, args.token, context.now);
      return true;
    },
  }),
}));
