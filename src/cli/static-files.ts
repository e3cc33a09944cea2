/**
 * `wsforge serve --static DIR`: files under DIR for GET and HEAD, next to the WebSocket endpoint.
 * Nothing outside DIR is ever read: `..` segments (plain or percent-encoded) are refused with 403
 * before the file system is touched, and a symbolic link that resolves outside DIR is refused
 * too. Dotfiles are not served; directories serve their index.html (no listings).
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { contentTypeFor } from './content-types.js';
import type { HttpRequest, HttpResponse } from './http-exchange.js';

export class StaticFiles {
  /** The directory's real path (symbolic links resolved), the bound every file is checked against. */
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  /** Check that `dir` is a readable directory; rejects with a message for the command line. */
  static async open(dir: string): Promise<StaticFiles> {
    let root: string;
    try {
      root = await realpath(dir);
    } catch (error) {
      throw new Error(`--static ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (!(await stat(root)).isDirectory()) throw new Error(`--static ${dir}: not a directory`);
    return new StaticFiles(root);
  }

  /**
   * Answer a GET or HEAD for `path` (the request-target without its query) if DIR has something
   * to say: a file, a redirect to a directory's slash, or a refusal. Resolves false when DIR has
   * no such file, so the caller answers (its own page or 404).
   */
  async respond(request: HttpRequest, response: HttpResponse, path: string): Promise<boolean> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return refuse(response, 400, 'malformed percent-encoding in the path');
    }
    if (decoded.includes('\0')) return refuse(response, 400, 'NUL in the path');
    const segments = decoded.split('/').filter((segment) => segment !== '');
    // RFC 3986 §5.2.4 would remove dot segments; a static server has no reason to accept them,
    // and refusing them (decoded, so %2e%2e too) means no path ever climbs out of DIR. A backslash
    // is a separator on Windows: refused as well.
    if (segments.some((segment) => segment === '..' || segment.includes('\\'))) return refuse(response, 403, 'path outside the served directory');
    if (segments.some((segment) => segment.startsWith('.'))) return false;
    const target = join(this.root, ...segments);
    if (!this.contains(target)) return refuse(response, 403, 'path outside the served directory');

    let file = await this.resolve(target);
    if (file === 'outside') return refuse(response, 403, 'path outside the served directory');
    if (file === null) return false;
    let info = await stat(file);
    if (info.isDirectory()) {
      if (!path.endsWith('/')) {
        // Relative links in the directory's index.html resolve against the URL with its slash.
        // The Location is rebuilt from the segments: never "//host" (an open redirect).
        const location = `/${segments.map(encodeURIComponent).join('/')}/`;
        response.writeHead(301, { Location: location, 'Content-Type': 'text/plain; charset=utf-8' });
        if (request.method === 'HEAD') response.end();
        else response.end(`moved to ${location}\n`);
        return true;
      }
      file = await this.resolve(join(file, 'index.html'));
      if (file === 'outside') return refuse(response, 403, 'path outside the served directory');
      if (file === null) return false;
      info = await stat(file);
    }
    if (!info.isFile()) return false;

    response.writeHead(200, {
      'Content-Type': contentTypeFor(file),
      'Content-Length': String(info.size),
      'Last-Modified': info.mtime.toUTCString(),
      // A development server: edits show on reload.
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    if (request.method === 'HEAD') {
      response.end();
      return true;
    }
    const stream = createReadStream(file);
    stream.on('error', () => response.destroy());
    stream.pipe(response);
    return true;
  }

  private contains(path: string): boolean {
    return path === this.root || path.startsWith(this.root + sep);
  }

  /** The real path of `path` if it exists inside DIR; 'outside' when a link leads out; null when missing. */
  private async resolve(path: string): Promise<string | 'outside' | null> {
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      return null;
    }
    return this.contains(real) ? real : 'outside';
  }
}

function refuse(response: HttpResponse, status: number, reason: string): true {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(`${reason}\n`);
  return true;
}
