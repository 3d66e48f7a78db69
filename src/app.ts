import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { createYoga, maskError as maskUnexpectedError, type YogaLogger } from 'graphql-yoga';
import type { AppConfig } from './config';
import type { Database } from './db/client';
import { createContext } from './graphql/context';
import { schema } from './graphql/schema';
import type { Logger } from './logger';

export interface AppDependencies {
  db: Database;
  config: AppConfig;
  logger: Logger;
}

const exampleQuery = `# Welcome to the Daily Papers API. Press the run button to try it.
query Trending {
  trendingPapers(first: 5) {
    totalCount
    edges {
      node {
        arxivId
        title
        upvotes
        trendingScore
        authorCount
        authors { name }
        organization { name fullName }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/**
 * The HTTP application (GraphQL at /graphql, GraphiQL in the browser), apart
 * from any listener: tests call `app.fetch(new Request(...))`.
 */
export function createApp({ db, config, logger }: AppDependencies) {
  return createYoga({
    schema,
    context: () => createContext(db, config),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Daily Papers API', defaultQuery: exampleQuery },
    logging: yogaLogger(logger),
    maskedErrors: {
      maskError(error, message, isDev) {
        // Pothos rejects malformed or foreign global IDs with a validation error: the client's mistake.
        if (error instanceof GraphQLError && error.originalError instanceof PothosValidationError) {
          return new GraphQLError(error.message, {
            nodes: error.nodes,
            path: error.path,
            extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
          });
        }
        const masked = maskUnexpectedError(error, message, isDev);
        if (masked !== error) logger.error({ err: error }, 'unexpected error in a GraphQL request');
        return masked;
      },
    },
    plugins: [
      {
        // The root URL is where a newcomer lands: send them to GraphiQL.
        onRequest({ url, endResponse, fetchAPI }) {
          if (url.pathname === '/') endResponse(fetchAPI.Response.redirect(new URL('/graphql', url), 302));
        },
      },
    ],
  });
}

export type App = ReturnType<typeof createApp>;

function yogaLogger(logger: Logger): YogaLogger {
  const child = logger.child({ component: 'yoga' });
  return {
    debug: (...args) => child.debug({ details: args }, 'yoga'),
    info: (...args) => child.info({ details: args }, 'yoga'),
    warn: (...args) => child.warn({ details: args }, 'yoga'),
    error: (...args) => child.error({ details: args }, 'yoga'),
  };
}
