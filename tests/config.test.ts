import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig, SETTINGS } from '../src/config';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The rows of README's configuration table: the variables each names, and each one's default as written. */
function readmeTable(): { variables: string[]; defaults: (string | undefined)[] }[] {
  const section = readme.slice(readme.indexOf('\n## Configuration'), readme.indexOf('\n### ', readme.indexOf('\n## Configuration')));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [names = '', written = ''] = line.split(' | ').map((cell) => cell.replace(/^\| /, ''));
      const variables = [...names.matchAll(/`([A-Z0-9_]+)`/g)].map((match) => match[1]!);
      const pieces = written.split(' / ');
      return { variables, defaults: variables.map((_, index) => (pieces.length === variables.length ? pieces[index] : undefined)) };
    });
}

/** The default a setting's schema gives when its variable is unset, before any conversion (seconds, not ms). */
function defaultOf(schema: z.ZodType): unknown {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodPipe) inner = inner.in as z.ZodType;
  return inner instanceof z.ZodDefault ? inner.def.defaultValue : undefined;
}

describe('the configuration table in README.md', () => {
  const rows = readmeTable();
  const documented = rows.flatMap((row) => row.variables);

  it('lists every setting, and only settings', () => {
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual(SETTINGS.map((setting) => setting.variable).sort());
  });

  it('gives the default each setting has, where it writes one as a value', () => {
    const checked: string[] = [];
    for (const row of rows) {
      row.variables.forEach((variable, index) => {
        const literal = /^`([^`]*)`$/.exec(row.defaults[index]?.trim() ?? '')?.[1];
        if (literal === undefined) return;
        const setting = SETTINGS.find((candidate) => candidate.variable === variable)!;
        expect(String(defaultOf(setting.schema)), variable).toBe(literal);
        checked.push(variable);
      });
    }
    // Most defaults are plain values; a table that lost them would check nothing.
    expect(checked.length).toBeGreaterThan(40);
  });
});

describe('loadConfig', () => {
  it('names the variable of each bad value, with its validation message', () => {
    expect(() => loadConfig({ PORT: '70000', REDIS_PREFIX: 'a b', METRICS_TOKEN: 'short', HTTP_HEADERS_TIMEOUT_SECONDS: '-1' })).toThrow(
      [
        'Invalid configuration:',
        '  REDIS_PREFIX: letters, digits, "_", "." and "-" only (1 to 64)',
        '  PORT: Too big: expected number to be <=65535',
        '  METRICS_TOKEN: at least 16 characters',
        '  HTTP_HEADERS_TIMEOUT_SECONDS: Too small: expected number to be >0',
      ].join('\n'),
    );
  });

  it('checks the settings that depend on one another once each is valid', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_SECONDS: '40', SMTP_URL: 'smtp://mail.example.org' })).toThrow(
      [
        'Invalid configuration:',
        '  HTTP_HEADERS_TIMEOUT_SECONDS: at most HTTP_REQUEST_TIMEOUT_SECONDS',
        '  DIGEST_LINK_SECRET: required with SMTP_URL (at least 32 random characters)',
      ].join('\n'),
    );
  });

  it('fills in defaults and converts units', () => {
    const embedded = loadConfig({});
    expect(embedded.demoData).toBe(true);
    expect(embedded.digest.linkSecret.length).toBeGreaterThanOrEqual(32);
    expect(embedded.listenerTimeouts).toEqual({ headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 });
    expect(embedded.http.corsOrigins).toBe('*');

    const configured = loadConfig({
      DATABASE_URL: 'postgres://db.example.org/papers',
      PUBLIC_URL: 'https://papers.example.org//',
      CORS_ORIGINS: ' https://a.example.org, ,https://b.example.org',
      RECOMMENDATIONS_REFRESH_DELAY_SECONDS: '2.5',
      INTROSPECTION: '0',
    });
    expect(configured.demoData).toBe(false);
    expect(configured.publicUrl).toBe('https://papers.example.org');
    expect(configured.http.corsOrigins).toEqual(['https://a.example.org', 'https://b.example.org']);
    expect(configured.recommendations.refreshDelayMs).toBe(2_500);
    expect(configured.http.introspection).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://db.example.org/papers', DEMO_DATA: 'true' }).demoData).toBe(true);
  });
});
