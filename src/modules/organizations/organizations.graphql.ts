import { builder } from '../../graphql/builder';
import { paperCountOfOrganizationLoader } from '../../graphql/loaders';
import { OrganizationRef } from '../../graphql/node-refs';
import { paperListField } from '../papers/papers.graphql';
import { findOrganizationByName } from './organizations.queries';

OrganizationRef.implement({
  description: 'An organization papers are published under, such as a lab or a company.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Unique handle, e.g. "OPPO".' }),
    fullName: t.exposeString('fullName', { nullable: true, description: 'Display name, e.g. "OPPO Research".' }),
    avatarUrl: t.exposeString('avatarUrl', { nullable: true, description: 'URL of its logo.' }),
    paperCount: t.int({
      description: 'How many papers it published.',
      resolve: (organization, _args, context) => paperCountOfOrganizationLoader(context).load(organization.id),
    }),
    papers: paperListField(t, {
      description: 'Its papers.',
      defaultOrder: 'PUBLISHED_AT',
      criteria: (organization) => ({ organizationId: organization.id }),
    }),
  }),
});

builder.queryField('organization', (t) =>
  t.field({
    type: OrganizationRef,
    nullable: true,
    description: 'An organization by its name (handle); null when unknown.',
    args: { name: t.arg.string({ required: true, description: 'The handle, e.g. "OPPO".' }) },
    resolve: async (_root, { name }, context) => (await findOrganizationByName(context.db, name)) ?? null,
  }),
);
