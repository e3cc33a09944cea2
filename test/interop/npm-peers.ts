// The npm packages the interop tests talk to (ws, undici, playwright-core) are devDependencies.
// They are loaded when a test needs them, so a missing one fails that test with a message
// that says how to install it, instead of failing every file that shares a helper.
import type * as WsModule from 'ws';
import type * as UndiciModule from 'undici';
import type * as PlaywrightModule from 'playwright-core';

async function importPeer<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    throw new Error(
      `the npm package "${name}" (a devDependency of wsforge) cannot be loaded: ${(error as Error).message}. ` +
        `Install it from the repository root: npm ci (or: npm install --save-dev ${name})`,
    );
  }
}

let ws: Promise<typeof WsModule> | null = null;
let undici: Promise<typeof UndiciModule> | null = null;
let playwright: Promise<typeof PlaywrightModule> | null = null;

export const loadWs = (): Promise<typeof WsModule> => (ws ??= importPeer<typeof WsModule>('ws'));
export const loadUndici = (): Promise<typeof UndiciModule> => (undici ??= importPeer<typeof UndiciModule>('undici'));
export const loadPlaywright = (): Promise<typeof PlaywrightModule> => (playwright ??= importPeer<typeof PlaywrightModule>('playwright-core'));
