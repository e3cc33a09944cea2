#!/usr/bin/env node
/**
 * The wsforge command line: `wsforge serve` and `wsforge connect`. Uses the public API only.
 */
import { connectCommand } from './connect-command.js';
import { EXIT_FAILURE, EXIT_USAGE, exitWithError, UsageError } from './command-line.js';
import { serveCommand } from './serve-command.js';
import { packageVersion } from './version.js';

const MAIN_HELP = `wsforge: a strict, fast WebSocket server and client

Usage:
  wsforge serve [options]          start a WebSocket server (echo or broadcast) with a demo page
  wsforge connect <url> [options]  connect to a WebSocket server from the terminal
  wsforge --version                print the version

Run "wsforge <command> --help" for the options of a command.
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (command === 'serve') await serveCommand(rest);
    else if (command === 'connect') await connectCommand(rest);
    else if (command === undefined || command === '--help' || command === '-h' || command === 'help') process.stdout.write(MAIN_HELP);
    else if (command === '--version') process.stdout.write(`wsforge ${packageVersion()}\n`);
    else throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = command === 'serve' || command === 'connect' ? `wsforge ${command} --help` : 'wsforge --help';
      exitWithError(`${error.message} (see ${help})`, EXIT_USAGE);
    }
    exitWithError((error as Error).message, EXIT_FAILURE);
  }
}

void main(process.argv.slice(2));
