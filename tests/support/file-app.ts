import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createTestApp, type TestAppOptions } from './test-app';
import { createTestDatabase, type TestDatabase } from './test-database';

// The test database and the app on it, for a test file that uses one of each
// throughout: call setUpFileApp() at the top of the file, then use `database`
// and `testApp` in its tests (they are set before the first test runs).

export let database: TestDatabase;
export let testApp: ReturnType<typeof createTestApp>;

/** Creates both before the file's tests and closes both after them; empties the tables before each test unless told not to. */
export function setUpFileApp(options: TestAppOptions = {}, { truncateBeforeEach = true } = {}): void {
  beforeAll(async () => {
    database = await createTestDatabase();
    testApp = createTestApp(database.db, options);
  });
  if (truncateBeforeEach) beforeEach(() => database.truncate());
  afterAll(async () => {
    await testApp?.close();
    await database?.close();
  });
}
