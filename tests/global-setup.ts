import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/client';
import { dropDatabase, recreateDatabase, urlFor } from './support/test-database';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

/**
 * Migrates a template database once per run; every test file then copies it
 * (CREATE DATABASE ... TEMPLATE). Names carry this run's process id, so two
 * runs on one server never touch each other's databases.
 */
export default async function setup(project: TestProject) {
  const template = `app_template_${process.pid}`;
  await recreateDatabase(template);
  const handle = openDatabase({ url: urlFor(template), dataDir: '' });
  try {
    await handle.migrate();
  } finally {
    await handle.close();
  }
  project.provide('templateDatabase', template);
  return () => dropDatabase(template);
}
