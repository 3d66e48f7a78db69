import type { App } from '../../src/app';

export interface GraphQLResponse<Data = Record<string, any>> {
  status: number;
  data?: Data | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

/** Sends a GraphQL request through the app's fetch handler: real HTTP semantics, no port. */
export function graphqlClient(app: App) {
  return async function request<Data = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GraphQLResponse<Data>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await app.fetch(new Request('http://test/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) }));
    const body = (await response.json()) as Omit<GraphQLResponse<Data>, 'status'>;
    return { status: response.status, ...body };
  };
}

/** The codes of a response's errors, for asserting on failures. */
export const errorCodes = (response: GraphQLResponse) => (response.errors ?? []).map((error) => error.extensions?.code);
