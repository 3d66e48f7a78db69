import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The peers `npm run bench` compares against are not dependencies of the
 * project: they are installed on demand, at pinned versions, into
 * `.bench-peers/` (gitignored) with `npm install --prefix`.
 */
export const PEER_PACKAGES = { postgraphile: '5.1.5', pg: '8.23.1' } as const;

export const peersDirectory = () => path.resolve('.bench-peers');

const installedVersion = (directory: string, name: string) => {
  const manifest = path.join(directory, 'node_modules', name, 'package.json');
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : undefined;
};

/** Installs the peers unless the pinned versions are there already; returns the folder. */
export function installPeers(log: (message: string) => void): string {
  const directory = peersDirectory();
  const missing = Object.entries(PEER_PACKAGES).filter(([name, version]) => installedVersion(directory, name) !== version);
  if (missing.length === 0) return directory;
  log(`installing the peers into ${directory}: ${missing.map(([name, version]) => `${name}@${version}`).join(', ')}`);
  mkdirSync(directory, { recursive: true });
  writeFileSync(
    path.join(directory, 'package.json'),
    `${JSON.stringify({ name: 'bench-peers', private: true, dependencies: PEER_PACKAGES }, null, 2)}\n`,
  );
  const npm = spawnSync('npm', ['install', '--prefix', directory, '--no-audit', '--no-fund', '--loglevel=error'], { stdio: 'inherit' });
  if (npm.status !== 0) throw new Error(`npm install --prefix ${directory} failed (${npm.status ?? npm.signal})`);
  return directory;
}
