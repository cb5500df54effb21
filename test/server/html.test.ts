import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SafeHtml, defaultPreviewPage, errorPage, escapeHtml, html, injectIntoHead } from '../../src/server/html.js';

const Html = suite('html');
const TAG = '<script src="/w.js"></script>';

Html('when text has HTML metacharacters then escapeHtml escapes all five', () => {
  assert.is(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  assert.is(escapeHtml(undefined), '');
  assert.is(escapeHtml(42), '42');
});

Html('when html interpolates values then strings are escaped, SafeHtml and arrays of it are not', () => {
  const item = (s: string) => html`<li>${s}</li>`;
  const out = html`<ul title="${'"x"'}">${['<a>', '<b>'].map(item)}${new SafeHtml('<hr>')}</ul>`;
  assert.is(out.value, '<ul title="&quot;x&quot;"><li>&lt;a&gt;</li><li>&lt;b&gt;</li><hr></ul>');
});

Html('when a page has a head then the tag goes first inside it, not into a header element', () => {
  const page = '<!doctype html><html><body><header>h</header></body><head lang="en"><title>t</title></head></html>';
  const out = injectIntoHead(page, TAG, 'x');
  assert.is(out, page.replace('<head lang="en">', `<head lang="en">${TAG}`));
});

Html('when a page has html but no head then a head with the tag is added', () => {
  assert.is(
    injectIntoHead('<html lang="en"><body>b</body></html>', TAG, 'x'),
    `<html lang="en"><head>${TAG}</head><body>b</body></html>`,
  );
});

Html('when a page is a fragment then it is wrapped in a document with an escaped title', () => {
  const out = injectIntoHead('<form>f</form>', TAG, 'Q&A <1>');
  assert.is(
    out,
    `<!doctype html><html lang="en"><head>${TAG}<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Q&amp;A &lt;1&gt;</title></head><body><form>f</form></body></html>`,
  );
});

Html('when the built-in pages render hostile text then it is escaped', () => {
  const preview = defaultPreviewPage({ title: '<i>T</i>', description: '"><script>x()</script>' });
  assert.not.match(preview, /<i>|<script>/);
  assert.match(preview, /<h1>&lt;i&gt;T&lt;\/i&gt;<\/h1>/);
  const error = errorPage(400, 'HST_ERR_SERVER_BAD_REQUEST', 'workerId got "<script>"');
  assert.not.match(error, /<script>/);
  assert.match(error, /workerId got &quot;&lt;script&gt;&quot;/);
});

Html.run();
