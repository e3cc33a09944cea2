/**
 * The package people install: packed from the repository as `npm publish` would pack it,
 * installed into an empty project, then used from outside the repository. Checks what the
 * published metadata promises: the files shipped, `require()` and `import` of every entry point
 * on this Node (package.json `engines`: ^20.19.0 || >=22.12.0, where require() of ESM works
 * unflagged), source maps that resolve, and stack traces that point into files that exist.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { echoProgram, SAMPLE_ACCEPT, throwingHandlerProgram, type ModuleSystem } from './consumer-programs.js';
import { packAndInstall, readJson, REPO_ROOT, runProgram, type InstalledPackage } from './packed-package.js';

let pkg: InstalledPackage;

before(async () => {
  pkg = await packAndInstall();
});
after(() => pkg?.remove());

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** Write `source` into the consumer project and run it with this Node; fails on a non-zero exit. */
async function runConsumer(name: string, source: string, nodeOptions: readonly string[] = []): Promise<string> {
  writeFileSync(join(pkg.app, name), source);
  const result = await runProgram(process.execPath, [...nodeOptions, name], pkg.app, 20_000);
  assert.equal(result.code, 0, `node ${[...nodeOptions, name].join(' ')} exited with ${String(result.code)}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

interface StackFrame {
  file: string;
  line: number;
  column: number;
}

/** The location of each `at ...` line of a V8 stack trace (paths or file: URLs). */
function stackFrames(stack: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const line of stack.split('\n')) {
    const match = /^\s+at (?:.*\()?((?:file:\/\/)?\/[^()]+?):(\d+):(\d+)\)?$/.exec(line);
    if (match === null) continue;
    const [, location = '', lineNumber = '0', column = '0'] = match;
    frames.push({ file: location.startsWith('file:') ? fileURLToPath(location) : location, line: Number(lineNumber), column: Number(column) });
  }
  return frames;
}

/** Assert the frame's file exists and its line and column fall inside it. */
function assertFramePointsIntoFile(frame: StackFrame): void {
  assert.ok(existsSync(frame.file), `stack frame points to a missing file: ${frame.file}:${frame.line}`);
  const lines = readFileSync(frame.file, 'utf8').split('\n');
  const text = lines[frame.line - 1];
  assert.ok(text !== undefined, `${frame.file} has ${lines.length} lines, the stack frame says line ${frame.line}`);
  assert.ok(frame.column <= text.length + 1, `${frame.file}:${frame.line} has ${text.length} characters, the stack frame says column ${frame.column}`);
}

describe('the packed package (npm pack, installed into an empty project)', () => {
  test('the tarball holds the build, the TypeScript sources its maps point to, LICENSE, README and CHANGELOG; no tests, no bench', () => {
    const files = pkg.packedFiles;
    for (const required of ['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'dist/protocol/index.js', 'dist/whatwg.js', 'dist/cli/main.js', 'src/index.ts']) {
      assert.ok(files.includes(required), `${required} is not in the tarball`);
    }
    const outside = files.filter((file) => !/^(dist|src)\//.test(file) && !['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md'].includes(file));
    assert.deepEqual(outside, [], 'files outside dist/ and src/ besides the package documents');
  });

  test('the build in the tarball is fresh: every dist/ module has its source in src/ (prepack cleans dist/ first)', () => {
    const stale = filesUnder(join(pkg.installed, 'dist'))
      .filter((file) => file.endsWith('.js'))
      .map((file) => relative(join(pkg.installed, 'dist'), file).replace(/\.js$/, '.ts'))
      .filter((source) => !existsSync(join(pkg.installed, 'src', source)));
    assert.deepEqual(stale, []);
  });

  test('package.json: MIT, repository, bugs, homepage, engines; LICENSE is the MIT text', () => {
    const manifest = readJson(join(pkg.installed, 'package.json')) as Record<string, unknown>;
    assert.equal(manifest['license'], 'MIT');
    assert.deepEqual(manifest['repository'], { type: 'git', url: 'git+https://github.com/wsforge/wsforge.git' });
    assert.deepEqual(manifest['bugs'], { url: 'https://github.com/wsforge/wsforge/issues' });
    assert.equal(manifest['homepage'], 'https://github.com/wsforge/wsforge#readme');
    assert.deepEqual(manifest['engines'], { node: '^20.19.0 || >=22.12.0' });
    const license = readFileSync(join(pkg.installed, 'LICENSE'), 'utf8');
    assert.match(license, /^MIT License\n\nCopyright \(c\) 2026 the wsforge authors\n/);
    assert.equal(license, readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8'));
  });

  test('every source map and declaration map in the package points to sources that are in the package', () => {
    const maps = filesUnder(join(pkg.installed, 'dist')).filter((file) => file.endsWith('.map'));
    assert.ok(maps.length > 50, `only ${maps.length} maps found`);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot } = readJson(map) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const path = resolve(dirname(map), sourceRoot ?? '', source);
        if (!path.startsWith(pkg.installed + sep) || !existsSync(path)) missing.push(`${relative(pkg.installed, map)} -> ${source}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  for (const system of ['cjs', 'esm'] as const satisfies readonly ModuleSystem[]) {
    const keyword = system === 'cjs' ? 'require()' : 'import';
    const file = (name: string): string => `${name}.${system === 'cjs' ? 'cjs' : 'mjs'}`;

    test(`${keyword} of wsforge, wsforge/protocol and wsforge/whatwg on Node ${process.version}: an echo over connect() and the WHATWG client`, async () => {
      const output = await runConsumer(file('echo'), echoProgram(system));
      assert.deepEqual(JSON.parse(output), { echoed: 'over connect()', browserEchoed: 'over the WHATWG client', accept: SAMPLE_ACCEPT });
    });

    test(`${keyword}: a handler's exception has a stack whose wsforge frames point into dist/*.js files that exist`, async () => {
      const { stack } = JSON.parse(await runConsumer(file('throws'), throwingHandlerProgram(system))) as { stack: string };
      const frames = stackFrames(stack);
      assert.equal(frames[0]?.file, join(pkg.app, file('throws')), `the first frame is the application's throw:\n${stack}`);
      const library = frames.filter((frame) => frame.file.startsWith(pkg.installed + sep));
      assert.ok(library.length >= 2, `the stack names wsforge's frames:\n${stack}`);
      for (const frame of library) {
        assert.ok(frame.file.startsWith(join(pkg.installed, 'dist') + sep), `not in dist/: ${frame.file}`);
        assertFramePointsIntoFile(frame);
      }
    });

    test(`${keyword} with --enable-source-maps: the same stack points into src/*.ts files that exist, at lines that exist`, async () => {
      const { stack } = JSON.parse(await runConsumer(file('throws'), throwingHandlerProgram(system), ['--enable-source-maps'])) as { stack: string };
      const library = stackFrames(stack).filter((frame) => frame.file.startsWith(pkg.installed + sep));
      assert.ok(library.length >= 2, `the stack names wsforge's frames:\n${stack}`);
      for (const frame of library) {
        assert.ok(frame.file.startsWith(join(pkg.installed, 'src') + sep) && frame.file.endsWith('.ts'), `not mapped to src/*.ts: ${frame.file}`);
        assertFramePointsIntoFile(frame);
      }
    });
  }

  test('the wsforge command is installed: node_modules/.bin/wsforge --help exits 0 with the usage', async () => {
    const result = await runProgram(join(pkg.app, 'node_modules', '.bin', 'wsforge'), ['--help'], pkg.app, 20_000);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /wsforge serve \[options\]/);
  });
});
