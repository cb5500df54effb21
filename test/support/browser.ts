// Headless Chromium for the browser tests: Debian's `chromium` package driven by playwright-core.
// No browser is ever downloaded: when /usr/bin/chromium is missing and we run as root with apt,
// Debian's package is installed once; otherwise the error says exactly what to install.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium, type Browser } from 'playwright-core';

/** The Chromium binary; HITSTATE_CHROMIUM overrides it (e.g. another distribution's path). */
export const CHROMIUM_PATH = process.env.HITSTATE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for a quiet, offline, deterministic browser. Playwright adds `--remote-debugging-pipe`
 * and a fresh temporary `--user-data-dir` itself (it refuses one in `args`) and removes that
 * folder when the browser closes.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

const INSTALL_HINT =
  'Chromium is needed for the browser tests and was not found at ' +
  `${CHROMIUM_PATH}. Install Debian's package: \`sudo apt-get update && sudo apt-get install -y chromium\` ` +
  '(or set HITSTATE_CHROMIUM to a Chromium binary). hitstate never downloads a browser.';

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ code: -1, output: `${output}\n${err.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

let installing: Promise<void> | undefined;

/** Held by the one test process that installs Chromium; the others wait for it (never race apt). */
const INSTALL_LOCK = join(tmpdir(), 'hitstate-chromium-install.lock');

function lockHolderAlive(): boolean {
  try {
    const pid = Number(readFileSync(INSTALL_LOCK, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `install` under a lock file shared by every test process, so only one runs apt at a time
 * (two apt-get runs fail on apt's list lock, which once made a browser test exit early). A lock
 * left by a process that died is taken over.
 */
async function withInstallLock(install: () => Promise<void>): Promise<void> {
  for (;;) {
    let fd: number;
    try {
      fd = openSync(INSTALL_LOCK, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!lockHolderAlive()) rmSync(INSTALL_LOCK, { force: true });
      // Waiting on another process's apt run, not timing a test.
      else await delay(250);
      if (existsSync(CHROMIUM_PATH)) return;
      continue;
    }
    try {
      writeSync(fd, String(process.pid));
      closeSync(fd);
      if (!existsSync(CHROMIUM_PATH)) await install();
      return;
    } finally {
      rmSync(INSTALL_LOCK, { force: true });
    }
  }
}

/**
 * Installs Debian's chromium package when allowed (root, apt present); otherwise explains. `.ci/run`
 * installs it before the tests; this covers a direct run. A failed attempt is retried once unless
 * the binary appeared meanwhile.
 */
async function installChromium(): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get') || process.env.HITSTATE_CHROMIUM !== undefined)
    throw new Error(INSTALL_HINT);
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  let failure = '';
  for (let attempt = 0; attempt < 2 && !existsSync(CHROMIUM_PATH); attempt++) {
    const update = await run('apt-get', [...lock, 'update']);
    const install = update.code === 0 ? await run('apt-get', [...lock, 'install', '-y', 'chromium']) : update;
    if (install.code === 0 && existsSync(CHROMIUM_PATH)) return;
    failure = `\`apt-get ${update.code === 0 ? 'install -y chromium' : 'update'}\` failed:\n${install.output.slice(-2000)}`;
  }
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${INSTALL_HINT}\n${failure}`);
}

/** Makes sure the Chromium binary exists, installing Debian's package once if needed. */
export async function ensureChromium(): Promise<string> {
  if (!existsSync(CHROMIUM_PATH)) {
    installing ??= withInstallLock(installChromium);
    await installing;
  }
  return CHROMIUM_PATH;
}

/**
 * Launches headless Chromium. Close it with `browser.close()` in an `after` hook.
 *
 * @example
 * ```ts
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 * ```
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = await ensureChromium();
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], headless: true });
}
