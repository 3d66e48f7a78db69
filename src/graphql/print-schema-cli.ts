import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from './schema';

/** `npm run schema:print`: writes the schema as SDL to schema.graphql (committed; a test fails when it drifts). */
writeFileSync(new URL('../../schema.graphql', import.meta.url), `${printSchema(schema)}\n`);
