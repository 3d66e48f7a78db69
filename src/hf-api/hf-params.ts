import { AppError, badUserInput } from '../errors';

/** A refusal of one query parameter: BAD_USER_INPUT with `parameter` naming it (or them, comma-separated). */
export const badParameter = (parameter: string, message: string) => badUserInput(message, { parameter });

/** Runs `read`, naming `parameter` in a refusal that names none (the domain's own checks). */
export function forParameter<Value>(parameter: string, read: () => Value): Value {
  try {
    return read();
  } catch (error) {
    if (error instanceof AppError && error.extensions.parameter === undefined) throw badParameter(parameter, error.message);
    throw error;
  }
}

/** The query string of a request, every parameter given at most once. */
export class QueryParameters {
  constructor(private readonly search: URLSearchParams) {}

  /** The raw value, or undefined when absent. */
  get(name: string): string | undefined {
    const values = this.search.getAll(name);
    if (values.length > 1) throw badParameter(name, `Give \`${name}\` once; it was given ${values.length} times.`);
    return values[0];
  }

  /** An integer in min..max, `fallback` when absent. */
  integer(name: string, { min, max, fallback }: { min: number; max: number; fallback: number }): number {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    if (!/^\d{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw badParameter(name, `\`${name}\` must be an integer from ${min} to ${max}; got "${raw.slice(0, 50)}".`);
    }
    return Number(raw);
  }

  /** One of `values`, `fallback` when absent. */
  oneOf<Value extends string>(name: string, values: readonly Value[], fallback: Value): Value {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    if (!(values as readonly string[]).includes(raw)) {
      throw badParameter(name, `\`${name}\` must be one of ${values.join(', ')}; got "${raw.slice(0, 50)}".`);
    }
    return raw as Value;
  }

  /** A name or word (trimmed, 1 to `maxLength` characters, no control characters), undefined when absent. */
  text(name: string, maxLength: number): string | undefined {
    const raw = this.get(name);
    if (raw === undefined) return undefined;
    const text = raw.trim();
    if (text.length === 0 || text.length > maxLength) {
      throw badParameter(name, `\`${name}\` must be 1 to ${maxLength} characters; it has ${text.length}.`);
    }
    if (/\p{Cc}/u.test(text)) throw badParameter(name, `\`${name}\` may not contain control characters.`);
    return text;
  }
}
