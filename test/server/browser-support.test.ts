// test/support/browser.ts: the flags, and the message when Chromium is missing and may not be installed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CHROMIUM_ARGS } from '../support/browser.js';

const BrowserSupport = suite('test support browser');
const root = fileURLToPath(new URL('../..', import.meta.url));

BrowserSupport('when the browser flags are listed then they keep it offline and quiet', () => {
  assert.equal(
    [...CHROMIUM_ARGS],
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  );
});

BrowserSupport('when the configured Chromium is missing then launching fails saying exactly what to install', () => {
  const script =
    "import('./test/support/browser.ts').then((m) => m.launchChromium()).then(() => console.log('launched'), (e) => console.log(e.message))";
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: root,
    env: { ...process.env, HITSTATE_CHROMIUM: '/nonexistent/chromium' },
    encoding: 'utf8',
  });
  assert.match(child.stdout, /was not found at \/nonexistent\/chromium/);
  assert.match(child.stdout, /sudo apt-get update && sudo apt-get install -y chromium/);
  assert.match(child.stdout, /never downloads a browser/);
});

BrowserSupport.run();
