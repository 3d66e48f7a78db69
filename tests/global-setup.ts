import { openDatabase } from '../src/db/client';
import { TEMPLATE_DATABASE, recreateDatabase, urlFor } from './support/test-database';

/** Migrates a template database once; every test file then copies it (CREATE DATABASE ... TEMPLATE). */
export default async function setup(): Promise<void> {
  await recreateDatabase(TEMPLATE_DATABASE);
  const template = openDatabase({ url: urlFor(TEMPLATE_DATABASE), dataDir: '' });
  try {
    await template.migrate();
  } finally {
    await template.close();
  }
}
