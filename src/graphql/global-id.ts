import { decodeBase64, encodeBase64, PothosValidationError } from '@pothos/core';
import { isObjectType, type GraphQLSchema } from 'graphql';

/**
 * Global IDs are base64 of "Type:id" with a positive integer id, as Pothos
 * encodes them. Anything else is rejected here with a message saying what an
 * ID looks like (the error handler maps it to BAD_USER_INPUT).
 */
export function decodeGlobalId(globalId: string): { typename: string; id: string } {
  const invalid = () => new PothosValidationError(`"${globalId.slice(0, 100)}" is not a valid ID: use the \`id\` of an object from this API.`);
  let decoded: string;
  try {
    decoded = decodeBase64(globalId);
  } catch {
    throw invalid();
  }
  const match = /^([A-Z][A-Za-z]*):([1-9]\d{0,9})$/.exec(decoded);
  if (!match || Number(match[2]) > 2 ** 31 - 1 || encodeBase64(decoded) !== globalId) throw invalid();
  return { typename: match[1]!, id: match[2]! };
}

/** Whether `typename` is an object type implementing Node (a well-formed ID of another type resolves to null). */
export function isNodeTypename(schema: GraphQLSchema, typename: string): boolean {
  const type = schema.getType(typename);
  return isObjectType(type) && type.getInterfaces().some((nodeInterface) => nodeInterface.name === 'Node');
}
