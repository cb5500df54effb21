/**
 * Read-only serving of a task's static files (`assetsDir`) under `<prefix>/assets/`, refusing
 * anything that would leave the folder (dot segments, encoded separators, symlinks out).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { HitstateError } from '../errors.js';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
};

/** A file found in the assets folder, ready to send. */
export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

function notFound(): HitstateError {
  return new HitstateError('HST_ERR_SERVER_NOT_FOUND', 'no such asset', { field: 'path' });
}

/**
 * Finds `relativePath` (still URL-encoded, as it appeared after `/assets/`) inside `dir`.
 *
 * @throws HitstateError `HST_ERR_SERVER_NOT_FOUND` for a missing file, a folder, or any path
 *   that tries to leave `dir`.
 */
export async function loadAsset(dir: string, relativePath: string): Promise<Asset> {
  const segments = relativePath.split('/');
  const decoded: string[] = [];
  for (const segment of segments) {
    let name: string;
    try {
      name = decodeURIComponent(segment);
    } catch {
      throw notFound();
    }
    if (name === '' || name === '.' || name === '..' || /[\\/\0]/.test(name) || name.startsWith('.')) throw notFound();
    decoded.push(name);
  }
  const root = await realpath(dir);
  let file: string;
  try {
    file = await realpath(join(root, ...decoded));
  } catch {
    throw notFound();
  }
  if (!file.startsWith(root + sep)) throw notFound();
  const info = await stat(file);
  if (!info.isFile()) throw notFound();
  const body = await readFile(file);
  return {
    body,
    contentType: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}
