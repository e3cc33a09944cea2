/**
 * The package as a user gets it: the repository copied to a scratch directory as a fresh clone
 * has it, packed there with `npm pack` (which runs `prepack`: a clean build), and
 * the tarball installed with `npm install` into an empty project. No registry is contacted: the
 * package has no runtime dependencies.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Not copied: what a fresh clone does not have (installed packages, builds, artifacts, git's own
 * data), and .ci (CI's script and the Node.js builds it installs there). The compiler comes from the
 * repository's node_modules through a link.
 */
const NOT_IN_A_FRESH_CLONE = new Set(['node_modules', 'dist', 'build', '.git', 'test-artifacts', 'coverage', '.ci']);

export interface InstalledPackage {
  /** The scratch directory holding everything below; removed by `remove()`. */
  scratch: string;
  /** The consumer project, with the package in node_modules/wsforge. */
  app: string;
  /** node_modules/wsforge inside the consumer project. */
  installed: string;
  /** The paths `npm pack` put in the tarball, relative to the package root. */
  packedFiles: string[];
  remove(): void;
}

export interface ProgramResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a program with a time bound; resolves with its exit code and output (never rejects on a non-zero exit). */
export function runProgram(file: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env: environmentWithoutNpmConfig(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        const reason = error.code === 'ENOENT' ? `${file} was not found on PATH (it comes with Node.js: install Node.js with npm)` : error.message;
        reject(new Error(`${file} ${args.join(' ')}: ${reason}\nstderr: ${stderr}`));
        return;
      }
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

/**
 * `npm test` runs this file under npm, which passes its settings down as npm_config_* variables
 * (the project's prefix among them): the nested npm commands must act on the scratch projects.
 */
function environmentWithoutNpmConfig(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.toLowerCase().startsWith('npm_')) env[name] = value;
  }
  return env;
}

async function npm(args: readonly string[], cwd: string): Promise<string> {
  const result = await runProgram('npm', args, cwd, 120_000);
  if (result.code !== 0) throw new Error(`npm ${args.join(' ')} exited with ${String(result.code)}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

export async function packAndInstall(): Promise<InstalledPackage> {
  const scratch = mkdtempSync(join(tmpdir(), 'wsforge-package-'));
  const remove = (): void => rmSync(scratch, { recursive: true, force: true });
  try {
    const source = join(scratch, 'source');
    mkdirSync(source);
    for (const entry of readdirSync(REPO_ROOT)) {
      if (!NOT_IN_A_FRESH_CLONE.has(entry)) cpSync(join(REPO_ROOT, entry), join(source, entry), { recursive: true });
    }
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');

    const packOutput = await npm(['pack', '--json', '--pack-destination', scratch], source);
    const packed = JSON.parse(packOutput) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const entry = packed[0];
    if (entry === undefined) throw new Error(`npm pack printed no package: ${packOutput}`);

    const app = join(scratch, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'wsforge-consumer', version: '1.0.0', private: true }));
    await npm(['install', '--offline', '--no-audit', '--no-fund', join(scratch, entry.filename)], app);
    return { scratch, app, installed: join(app, 'node_modules', 'wsforge'), packedFiles: entry.files.map((file) => file.path), remove };
  } catch (error) {
    remove();
    throw error;
  }
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}
