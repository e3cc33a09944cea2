/**
 * The kinds of option values the tables are made of: booleans, integers and numbers in a range,
 * durations, strings, string lists, functions, objects, one of several strings, options objects
 * with their own table, and any of several kinds.
 */
import { describeValue, isOptionsObject, type OptionRule, type OptionTable } from './check-options.js';

/**
 * Node's timers hold at most 2^31 - 1 ms (24.8 days): a longer delay fires after 1 ms, with
 * only a warning. Every duration is bounded by it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function withNote(expects: string, note: string | undefined): string {
  return note === undefined ? expects : `${expects} (${note})`;
}

function range(min: number, max: number): string {
  return max === MAX_SAFE ? `>= ${min}` : `from ${min} to ${max}`;
}

export const booleanOption: OptionRule = { expects: 'true or false', accepts: (value) => typeof value === 'boolean' };

/** An integer in [min, max]; `note` says the unit or what a value means. */
export function integerOption(min: number, max = MAX_SAFE, note?: string): OptionRule {
  return {
    expects: withNote(`an integer ${range(min, max)}`, note),
    accepts: (value) => Number.isInteger(value) && (value as number) >= min && (value as number) <= max,
  };
}

/** An integer >= min, or Infinity for no limit. */
export function integerOrInfinityOption(min: number, note?: string): OptionRule {
  return {
    expects: withNote(`an integer >= ${min}, or Infinity`, note),
    accepts: (value) => value === Infinity || (Number.isInteger(value) && (value as number) >= min && (value as number) <= MAX_SAFE),
  };
}

/** A finite number in [min, max]. */
export function numberOption(min: number, max: number, note?: string): OptionRule {
  return {
    expects: withNote(max === Infinity ? `a number >= ${min}` : `a number from ${min} to ${max}`, note),
    accepts: (value) => typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max,
  };
}

/** Milliseconds, from `min` to what a Node timer holds. */
export function durationOption(min: number, note?: string): OptionRule {
  return {
    expects: withNote(`a number of ms from ${min} to ${MAX_TIMER_MS}`, note),
    accepts: (value) => typeof value === 'number' && value >= min && value <= MAX_TIMER_MS,
  };
}

export const stringOption: OptionRule = { expects: 'a string', accepts: (value) => typeof value === 'string' };

export const nonEmptyStringOption: OptionRule = { expects: 'a non-empty string', accepts: (value) => typeof value === 'string' && value !== '' };

/** A string that passes `test`, described by `expects`. */
export function stringMatching(expects: string, test: (value: string) => boolean): OptionRule {
  return { expects, accepts: (value) => typeof value === 'string' && test(value) };
}

/** An array of values that each pass `item`; `nonEmpty` refuses []. */
export function listOption(item: OptionRule, options: { nonEmpty?: boolean; expects?: string } = {}): OptionRule {
  const nonEmpty = options.nonEmpty === true;
  return {
    expects: options.expects ?? `${nonEmpty ? 'a non-empty array' : 'an array'} of ${plural(item.expects)}`,
    accepts: (value) => Array.isArray(value) && (!nonEmpty || value.length > 0) && value.every((entry) => item.accepts(entry)),
    item,
  };
}

export const stringListOption: OptionRule = listOption(stringOption);

export const functionOption: OptionRule = { expects: 'a function', accepts: (value) => typeof value === 'function' };

/** Any object (not null, not an array): contents passed through unchecked (TLS options). */
export function objectOption(expects: string): OptionRule {
  return { expects, accepts: isOptionsObject };
}

/** An object with these methods (an adapter, an extension factory). */
export function objectWithMethods(expects: string, methods: readonly string[]): OptionRule {
  return {
    expects,
    accepts: (value) => isOptionsObject(value) && methods.every((name) => typeof (value as Record<string, unknown>)[name] === 'function'),
  };
}

/** An instance of a class (AbortSignal, Buffer, URL). */
export function instanceOption(type: abstract new (...args: never[]) => unknown, expects: string): OptionRule {
  return { expects, accepts: (value) => value instanceof type };
}

/** One of these strings. */
export function enumOption(values: readonly string[]): OptionRule {
  return {
    expects: values.map((value) => describeValue(value)).join(' or '),
    accepts: (value) => typeof value === 'string' && values.includes(value),
  };
}

/** An options object checked against its own table (`handlers`, `reconnect`). */
export function nestedOptions(table: OptionTable, expects: string): OptionRule {
  return { expects, accepts: isOptionsObject, table };
}

/** A value any of `rules` accepts; a nested table among them applies to objects. */
export function anyOf(...rules: OptionRule[]): OptionRule {
  return {
    expects: rules.map((rule) => rule.expects).join(', or '),
    accepts: (value) => rules.some((rule) => rule.accepts(value)),
    table: rules.find((rule) => rule.table !== undefined)?.table,
    item: rules.find((rule) => rule.item !== undefined)?.item,
  };
}

/** The same rule, described otherwise (where the generic words would mislead). */
export function describedAs(rule: OptionRule, expects: string): OptionRule {
  return { ...rule, expects };
}

function plural(expects: string): string {
  // "a string" → "strings"; descriptions that are not "a/an noun" stay as they are.
  const match = /^an? (\S+)(.*)$/.exec(expects);
  return match === null ? expects : `${match[1]}s${match[2]}`;
}
