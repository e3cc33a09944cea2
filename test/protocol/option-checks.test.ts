/**
 * The options checker without sockets (src/protocol/options/): every kind of rule the tables are
 * made of, required and exclusive keys, hints for other libraries' names, "did you mean", the
 * way values are shown in messages, and the edit distance behind the suggestions. Every refusal
 * is an InvalidOptionError (a TypeError, WSF_ERR_INVALID_OPTION) naming the option at fault.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientPerMessageDeflate, ErrorCode, InvalidOptionError, serverPerMessageDeflate } from '../../src/protocol/index.js';
import { checkOptions, describeValue, type OptionTable } from '../../src/protocol/options/check-options.js';
import { closestName } from '../../src/protocol/options/closest-name.js';
import {
  anyOf,
  booleanOption,
  describedAs,
  durationOption,
  enumOption,
  functionOption,
  instanceOption,
  integerOption,
  integerOrInfinityOption,
  listOption,
  MAX_TIMER_MS,
  nestedOptions,
  nonEmptyStringOption,
  numberOption,
  objectOption,
  objectWithMethods,
  stringListOption,
  stringMatching,
  stringOption,
} from '../../src/protocol/options/option-rules.js';
import { guardProcess } from '../helpers/process-guard.js';

guardProcess();

/** The InvalidOptionError `check` throws: its option path and message. */
function refusal(check: () => void): { option: string; message: string } {
  try {
    check();
  } catch (error) {
    assert.ok(error instanceof InvalidOptionError, `an InvalidOptionError, not ${String(error)}`);
    assert.ok(error instanceof TypeError);
    assert.equal(error.code, ErrorCode.INVALID_OPTION);
    return { option: error.option, message: error.message };
  }
  assert.fail('the options were accepted');
}

describe('rules: what each kind of option takes', () => {
  const cases: Array<[string, ReturnType<typeof integerOption>, unknown[], unknown[], string]> = [
    ['booleanOption', booleanOption, [true, false], [1, 'true'], 'true or false'],
    ['integerOption(8, 15)', integerOption(8, 15), [8, 15], [7, 16, 8.5, '9'], 'an integer from 8 to 15'],
    ['integerOption(0) with a note', integerOption(0, undefined, 'bytes'), [0, Number.MAX_SAFE_INTEGER], [-1, Infinity], 'an integer >= 0 (bytes)'],
    ['integerOrInfinityOption(1)', integerOrInfinityOption(1, 'connections'), [1, Infinity], [0, -Infinity, 2 ** 60], 'an integer >= 1, or Infinity (connections)'],
    ['numberOption(0, 1)', numberOption(0, 1), [0, 0.5, 1], [1.1, Number.NaN, '0'], 'a number from 0 to 1'],
    ['numberOption(0, Infinity)', numberOption(0, Infinity, 'ratio'), [0, 1e9], [Infinity, -1], 'a number >= 0 (ratio)'],
    ['durationOption(0)', durationOption(0), [0, 0.5, MAX_TIMER_MS], [MAX_TIMER_MS + 1, -1, '1s'], `a number of ms from 0 to ${MAX_TIMER_MS}`],
    ['stringOption', stringOption, ['', 'x'], [1, null], 'a string'],
    ['nonEmptyStringOption', nonEmptyStringOption, ['x'], [''], 'a non-empty string'],
    ['stringMatching', stringMatching('a path starting with /', (v) => v.startsWith('/')), ['/chat'], ['chat', 1], 'a path starting with /'],
    ['stringListOption', stringListOption, [[], ['a']], [['a', 1], 'a'], 'an array of strings'],
    ['listOption nonEmpty', listOption(integerOption(1), { nonEmpty: true }), [[1]], [[], [0]], 'a non-empty array of integers >= 1'],
    ['listOption with its own words', listOption(stringOption, { expects: 'origins' }), [['a']], [[1]], 'origins'],
    ['listOption of an item not "a noun"', listOption(enumOption(['x', 'y'])), [['x', 'y']], [['z']], 'an array of "x" or "y"'],
    ['functionOption', functionOption, [() => 1], [{}], 'a function'],
    ['objectOption', objectOption('TLS options'), [{}], [null, [], 'x'], 'TLS options'],
    ['objectWithMethods', objectWithMethods('an adapter', ['publish', 'subscribe']), [{ publish() {}, subscribe() {} }], [{ publish() {} }, null], 'an adapter'],
    ['instanceOption', instanceOption(URL, 'a URL'), [new URL('ws://a')], ['ws://a'], 'a URL'],
    ['enumOption', enumOption(['h2', 'http/1.1']), ['h2'], ['h3', 2], '"h2" or "http/1.1"'],
    ['anyOf', anyOf(booleanOption, integerOption(1)), [true, 3], [0, 'x'], 'true or false, or an integer >= 1'],
    ['describedAs', describedAs(integerOption(0), 'a byte count'), [10], [-1], 'a byte count'],
  ];
  for (const [name, rule, good, bad, expects] of cases) {
    test(`decision: ${name} accepts ${good.map((v) => describeValue(v)).join(', ')}, refuses ${bad.map((v) => describeValue(v)).join(', ')}; expects "${expects}"`, () => {
      assert.equal(rule.expects, expects);
      for (const value of good) assert.equal(rule.accepts(value), true, describeValue(value));
      for (const value of bad) assert.equal(rule.accepts(value), false, describeValue(value));
    });
  }
});

describe('checkOptions: tables and messages', () => {
  const inner: OptionTable = { rules: { level: integerOption(0, 9) } };
  const table: OptionTable = {
    rules: {
      port: integerOption(0, 65535),
      origins: listOption(stringOption),
      deflate: anyOf(booleanOption, nestedOptions(inner, 'deflate options')),
      path: stringOption,
      socket: stringOption,
    },
    required: ['port'],
    hints: { verifyClient: "is ws's option: use `onHandshake`" },
    exclusive: [['path', 'socket', 'a path is a Unix socket already']],
    misplaced: (value) => (typeof value === 'number' ? 'give the port as `{ port }`' : undefined),
  };
  const check = (options: unknown) => () => checkOptions(options, table, 'listen()');

  test('decision: valid options pass; undefined values stand for the defaults; inherited keys are not options', () => {
    checkOptions({ port: 80, origins: ['a'], deflate: { level: 1 }, path: undefined }, table, 'listen()');
    checkOptions({ port: 80, deflate: true }, table, 'listen()');
    checkOptions(Object.create({ inherited: 1, port: 1 }, { port: { value: 80, enumerable: true } }), table, 'listen()');
    checkOptions(undefined, { rules: {} }, 'f()');
  });

  test('decision: an argument that is not an options object is refused, with the table\'s hint when it recognises it', () => {
    assert.deepEqual(refusal(check(8080)), { option: '', message: 'listen(): the options must be an options object, got 8080: give the port as `{ port }`' });
    assert.deepEqual(refusal(check(null)), { option: '', message: 'listen(): the options must be an options object, got null' });
    assert.deepEqual(refusal(check(['a'])), { option: '', message: 'listen(): the options must be an options object, got an array of 1' });
  });

  test('decision: a required key missing is named with what it takes', () => {
    assert.deepEqual(refusal(check({})), { option: 'port', message: 'listen(): option `port` is required (an integer from 0 to 65535)' });
    const noRule: OptionTable = { rules: {}, required: ['role'] };
    assert.deepEqual(refusal(() => checkOptions({}, noRule, 'f()')), { option: 'role', message: 'f(): option `role` is required (given)' });
  });

  test('decision: two options that cannot go together are refused, naming both and why', () => {
    assert.deepEqual(refusal(check({ port: 1, path: '/tmp/s', socket: 'x' })), {
      option: 'socket',
      message: 'listen(): options `path` and `socket` cannot be given together: a path is a Unix socket already',
    });
  });

  test('decision: a list with a bad item names the item; a value of the wrong kind names what it got', () => {
    assert.deepEqual(refusal(check({ port: 1, origins: ['a', 2] })), { option: 'origins[1]', message: 'listen(): option `origins[1]` must be a string, got 2' });
    assert.deepEqual(refusal(check({ port: 1, origins: 'a' })), { option: 'origins', message: 'listen(): option `origins` must be an array of strings, got "a"' });
    assert.deepEqual(refusal(check({ port: 70000 })), { option: 'port', message: 'listen(): option `port` must be an integer from 0 to 65535, got 70000' });
  });

  test('decision: a rule that takes one of several kinds, a list among them, still names the list item at fault', () => {
    const either: OptionTable = { rules: { protocols: anyOf(nonEmptyStringOption, stringListOption) } };
    checkOptions({ protocols: 'chat' }, either, 'f()');
    checkOptions({ protocols: ['a', 'b'] }, either, 'f()');
    assert.deepEqual(refusal(() => checkOptions({ protocols: ['a', 3] }, either, 'f()')), {
      option: 'protocols[1]',
      message: 'f(): option `protocols[1]` must be a string, got 3',
    });
  });

  test('decision: nested options are checked against their own table, named by their whole path', () => {
    assert.deepEqual(refusal(check({ port: 1, deflate: { level: 10 } })), { option: 'deflate.level', message: 'listen(): option `deflate.level` must be an integer from 0 to 9, got 10' });
    assert.deepEqual(refusal(check({ port: 1, deflate: { levle: 1 } })), { option: 'deflate.levle', message: 'listen(): unknown option `deflate.levle` (did you mean `level`?)' });
    assert.deepEqual(refusal(() => checkOptions('x', inner, 'f()', 'deflate.')), { option: 'deflate', message: 'f(): option `deflate` must be an options object, got "x"' });
  });

  test('decision: an unknown key gets the hint for it, else "did you mean", else the list of options when short', () => {
    assert.deepEqual(refusal(check({ verifyClient() {} })), { option: 'verifyClient', message: "listen(): `verifyClient` is ws's option: use `onHandshake`" });
    assert.equal(refusal(check({ prot: 1 })).message, 'listen(): unknown option `prot` (did you mean `port`?)');
    assert.equal(refusal(check({ hostname: 'a' })).message, 'listen(): unknown option `hostname` (the options are `port`, `origins`, `deflate`, `path`, `socket`)');
    const many: OptionTable = { rules: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`option${i}`, booleanOption])) };
    assert.equal(refusal(() => checkOptions({ zzz: 1 }, many, 'f()')).message, 'f(): unknown option `zzz`', 'a long table is not listed');
  });

  test('decision: the real permessage-deflate tables: a typo gets "did you mean", a server option on the client a hint', () => {
    assert.equal(refusal(() => serverPerMessageDeflate({ lvel: 6 } as never)).message, 'serverPerMessageDeflate(): unknown option `lvel` (did you mean `level`?)');
    assert.match(refusal(() => clientPerMessageDeflate({ acceptOffer: () => true } as never)).message, /`acceptOffer` is a server option/);
    assert.equal(refusal(() => serverPerMessageDeflate({ memLevel: 10 })).option, 'memLevel');
  });
});

describe('values as messages show them', () => {
  class Session {}
  const cases: Array<[unknown, string]> = [
    ['short', '"short"'],
    ['x'.repeat(50), `"${'x'.repeat(40)}…"`],
    [42, '42'],
    [-0, '-0'],
    [10n, '10n'],
    [() => {}, 'a function'],
    [function named() {}, 'function named'],
    [null, 'null'],
    [[1, 2], 'an array of 2'],
    [{}, 'an object'],
    [Object.create(null), 'an object'],
    [new URL('ws://a'), 'a URL'],
    [new AbortController(), 'an AbortController'],
    [new Session(), 'a Session'],
    [undefined, 'undefined'],
    [Symbol('s'), 'Symbol(s)'],
    [true, 'true'],
  ];
  for (const [value, shown] of cases) {
    test(`decision: ${shown} is how the value is shown`, () => {
      assert.equal(describeValue(value), shown);
    });
  }

  test('decision: an object of a class with an empty name is "an object"', () => {
    const anonymous = new (class {})();
    Object.defineProperty(Object.getPrototypeOf(anonymous).constructor, 'name', { value: '' });
    assert.equal(describeValue(anonymous), 'an object');
  });
});

describe('"did you mean" (optimal string alignment distance)', () => {
  const cases: Array<[string, string[], string | undefined, string]> = [
    ['maxPayLoad', ['maxPayload', 'maxFragments'], 'maxPayload', 'case is ignored'],
    ['maxPayload', ['maxPayload'], 'maxPayload', 'the same name'],
    ['pign', ['ping', 'pong'], 'ping', 'a swap of neighbours is one edit'],
    ['portt', ['port'], 'port', 'an insertion'],
    ['hots', ['host'], 'host', 'a swap in a short name'],
    ['hxst', ['host'], 'host', 'one substitution in a 4-letter name'],
    ['hxxt', ['host'], undefined, 'two edits are too many for 4 letters'],
    ['maxPxxxoad', ['maxPayload'], undefined, 'three edits are too many'],
    ['origins', ['origin', 'origins2'], 'origin', 'the nearest wins (a deletion before an insertion later in the list)'],
    ['timeout', ['closeTimeout'], undefined, 'a length difference past the bound'],
    ['ab', [], undefined, 'no candidates'],
  ];
  for (const [name, candidates, expected, why] of cases) {
    test(`decision: "${name}" among [${candidates.join(', ')}] → ${expected ?? 'nothing'} (${why})`, () => {
      assert.equal(closestName(name, candidates), expected);
    });
  }
});
