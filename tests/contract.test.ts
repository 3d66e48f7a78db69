import { readFileSync } from 'node:fs';
import { buildSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType, type GraphQLField, type GraphQLInputField } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/schema';

/** The public contract: names and error codes fixed for clients; the schema may extend it, never rename. */
const contractFile = new URL('./fixtures/contract.graphql', import.meta.url);

describe('the public contract (tests/fixtures/contract.graphql)', () => {
  it('is implemented with the same names, types, arguments and defaults', () => {
    const contract = buildSchema(readFileSync(contractFile, 'utf8'));
    const differences: string[] = [];
    for (const type of Object.values(contract.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      const ours = schema.getType(type.name);
      if (!ours) {
        differences.push(`missing type ${type.name}`);
        continue;
      }
      if (isEnumType(type) && isEnumType(ours)) {
        for (const value of type.getValues()) {
          if (!ours.getValue(value.name)) differences.push(`missing ${type.name}.${value.name}`);
        }
      }
      if (!(isObjectType(type) || isInterfaceType(type) || isInputObjectType(type))) continue;
      if (!(isObjectType(ours) || isInterfaceType(ours) || isInputObjectType(ours))) {
        differences.push(`${type.name} is not an object, interface or input type`);
        continue;
      }
      const ourFields = ours.getFields() as Record<string, GraphQLField<unknown, unknown> | GraphQLInputField>;
      for (const field of Object.values(type.getFields()) as (GraphQLField<unknown, unknown> | GraphQLInputField)[]) {
        const coordinate = `${type.name}.${field.name}`;
        const ourField = ourFields[field.name];
        if (!ourField) {
          differences.push(`missing ${coordinate}`);
          continue;
        }
        if (String(ourField.type) !== String(field.type)) differences.push(`${coordinate}: ${ourField.type} instead of ${field.type}`);
        for (const arg of 'args' in field ? field.args : []) {
          const ourArg = 'args' in ourField ? ourField.args.find((candidate) => candidate.name === arg.name) : undefined;
          if (!ourArg) differences.push(`missing ${coordinate}(${arg.name})`);
          else if (String(ourArg.type) !== String(arg.type) || ourArg.defaultValue !== arg.defaultValue) {
            differences.push(`${coordinate}(${arg.name}): ${ourArg.type} = ${ourArg.defaultValue} instead of ${arg.type} = ${arg.defaultValue}`);
          }
        }
      }
    }
    expect(differences).toEqual([]);
  });
});
