/**
 * Options that refuse mistakes. An options object is checked once, where it enters (a server's
 * constructor, a connect() call), against a table that says what each key takes: an unknown key,
 * a wrong type or a value out of range throws an InvalidOptionError (a TypeError, code
 * WSF_ERR_INVALID_OPTION) naming the option, what it got and what it expects. Keys of other
 * libraries' APIs (ws's `verifyClient`, `port`, `server`, `noServer`) and renamed options get a
 * hint saying what to use instead: ignored, they would switch off what the user meant to turn on
 * (a `verifyClient` that never runs is an authentication that silently accepts everyone).
 */
import { closestName } from './closest-name.js';
import { InvalidOptionError } from './invalid-option-error.js';

/** What one option takes. */
export interface OptionRule {
  /** In words, for the message: "an integer from 8 to 15". */
  readonly expects: string;
  accepts(value: unknown): boolean;
  /** An options object inside the options: its keys are checked against this table too. */
  readonly table?: OptionTable | undefined;
  /** For lists: what each item takes, so a message can name the item at fault (`origins[1]`). */
  readonly item?: OptionRule | undefined;
}

/** A rule for every key of T, so a key added to the interface and not to its table does not compile. */
export type OptionRules<T> = { readonly [K in keyof T]-?: OptionRule };

export interface OptionTable {
  readonly rules: Readonly<Record<string, OptionRule>>;
  /** Keys that must be present. */
  readonly required?: readonly string[] | undefined;
  /**
   * Keys that are not options here, and what to use instead, as the rest of a sentence that
   * starts with the key: "is ws's option: use `onHandshake`".
   */
  readonly hints?: Readonly<Record<string, string>> | undefined;
  /** Pairs of options that cannot be given together, and why. */
  readonly exclusive?: ReadonlyArray<readonly [string, string, string]> | undefined;
  /**
   * What to say when the argument is something else than options (`listen(8080)`, an HTTP
   * server given to the constructor); undefined when it is not recognised.
   */
  readonly misplaced?: ((value: unknown) => string | undefined) | undefined;
}

/** Tables list fewer known options than this in the message for an unknown one. */
const LISTED_OPTIONS = 10;

/**
 * Throw an InvalidOptionError for the first key of `options` that its table does not accept.
 * `where` names the call in messages (`new WebSocketServer()`); `prefix` the enclosing option of
 * nested tables (`perMessageDeflate.`). Undefined options, and options set to undefined, stand for
 * the defaults.
 */
export function checkOptions(options: unknown, table: OptionTable, where: string, prefix = ''): void {
  if (options === undefined) return;
  const misplaced = table.misplaced?.(options);
  if (misplaced !== undefined || !isOptionsObject(options)) {
    const name = prefix === '' ? '' : prefix.slice(0, -1);
    const subject = prefix === '' ? 'the options' : `option \`${name}\``;
    const hint = misplaced === undefined ? '' : `: ${misplaced}`;
    throw new InvalidOptionError(name, `${where}: ${subject} must be an options object, got ${describeValue(options)}${hint}`);
  }
  const record = options as Record<string, unknown>;
  const rules = table.rules;
  // for-in rather than Object.keys: no array per check (publish options are checked per call).
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue; // inherited keys are not options
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    if (rule === undefined) throw unknownOption(table, key, prefix + key, where);
    const value = record[key];
    if (value === undefined) continue;
    if (!rule.accepts(value)) throw invalidValue(rule, value, prefix + key, where);
    if (rule.table !== undefined && isOptionsObject(value)) checkOptions(value, rule.table, where, `${prefix + key}.`);
  }
  if (table.required !== undefined) {
    for (const key of table.required) {
      if (record[key] === undefined) {
        const expects = rules[key]?.expects ?? 'given';
        throw new InvalidOptionError(prefix + key, `${where}: option \`${prefix + key}\` is required (${expects})`);
      }
    }
  }
  if (table.exclusive !== undefined) {
    for (const [a, b, why] of table.exclusive) {
      if (record[a] !== undefined && record[b] !== undefined) {
        throw new InvalidOptionError(prefix + b, `${where}: options \`${prefix + a}\` and \`${prefix + b}\` cannot be given together: ${why}`);
      }
    }
  }
}

function invalidValue(rule: OptionRule, value: unknown, path: string, where: string): InvalidOptionError {
  const item = rule.item;
  if (item !== undefined && Array.isArray(value)) {
    const index = value.findIndex((entry) => !item.accepts(entry));
    if (index !== -1) {
      return new InvalidOptionError(`${path}[${index}]`, `${where}: option \`${path}[${index}]\` must be ${item.expects}, got ${describeValue(value[index])}`);
    }
  }
  return new InvalidOptionError(path, `${where}: option \`${path}\` must be ${rule.expects}, got ${describeValue(value)}`);
}

function unknownOption(table: OptionTable, key: string, path: string, where: string): InvalidOptionError {
  const hint = table.hints !== undefined && Object.hasOwn(table.hints, key) ? table.hints[key] : undefined;
  if (hint !== undefined) return new InvalidOptionError(path, `${where}: \`${path}\` ${hint}`);
  const known = Object.keys(table.rules);
  const near = closestName(key, known);
  let advice = '';
  if (near !== undefined) advice = ` (did you mean \`${near}\`?)`;
  else if (known.length < LISTED_OPTIONS) advice = ` (the options are ${known.map((name) => `\`${name}\``).join(', ')})`;
  return new InvalidOptionError(path, `${where}: unknown option \`${path}\`${advice}`);
}

/** An object whose keys are options: not null, not an array. */
export function isOptionsObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as the message shows it: strings quoted and cut short, objects by their kind. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'function':
      return value.name === '' ? 'a function' : `function ${value.name}`;
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of ${value.length}`;
      const kind = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
      if (kind === undefined || kind === 'Object' || kind === '') return 'an object';
      // "an AbortController", but "a URL", "a Uint8Array".
      return /^[AEIO]/.test(kind) ? `an ${kind}` : `a ${kind}`;
    }
    default:
      return String(value);
  }
}
