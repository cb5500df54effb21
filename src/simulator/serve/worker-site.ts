/**
 * The worker site of `hitstate serve`: sign-up with an invitation, sign-in, the HIT groups,
 * preview, accept, the task, return, submit, and the worker's dashboard.
 *
 * Security:
 * - Every state-changing action is a POST that needs the worker's session cookie and the
 *   session's CSRF token (sign-in and sign-up, which have no session yet, use a double-submit
 *   CSRF cookie); a POST whose `Origin` is not the site's is refused.
 * - The task's `externalSubmit` comes from the task's own origin (a cross-site form post, which a
 *   `SameSite=Lax` cookie does not accompany), so it is authorized by a capability instead:
 *   `turkSubmitTo` carries an HMAC of the assignment and its worker, given only to the worker who
 *   holds the assignment. Without it, or for anyone else's assignment: 403, nothing changed.
 * - Requester HTML (HTMLQuestion) is never served from this origin: it comes from the separate
 *   content origin (`contentUrl`) in an iframe sandboxed without `allow-same-origin`.
 * - Every page sends CSP (`default-src 'self'`, `frame-ancestors 'none'`), `X-Content-Type-Options`,
 *   `Referrer-Policy: same-origin`; every value is HTML-escaped; a 500 says nothing internal.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isHitstateError } from '../../errors.js';
import type { Engine } from '../engine.js';
import { escapeHtml } from '../html.js';
import { BodyTooLargeError, readBody } from '../http-util.js';
import type { AssignmentRecord, HitRecord, HitTypeRecord, QualificationTypeRecord } from '../model.js';
import { formatCents } from '../money.js';
import { describeRequirement } from '../qualifications.js';
import { type FormQuestion, type ParsedQuestion, parseQuestion } from '../question.js';
import { accept, refusal, requestQualification, returnAssignment, submit } from '../worker-actions.js';
import type { Db } from './db.js';
import { balances, workerAccount } from './ledger.js';
import { readRecord } from './store.js';
import {
  checkSignIn,
  endSessions,
  inviteStatus,
  openSession,
  SESSION_TTL_MS,
  SignInLimiter,
  SignUpError,
  sessionOf,
  signUp,
} from './worker-accounts.js';

/** What the site needs from the server. */
export interface WorkerSiteOptions {
  db: Db;
  engine: Engine;
  /** The site's public origin, e.g. `https://crowd.example.org`. */
  publicUrl: string;
  /** The public origin of requester content (HTMLQuestion), e.g. `https://content.crowd.example.org`. */
  contentUrl: string;
  /** Signs submit capabilities. */
  siteKey: Buffer;
  maxBodyBytes: number;
  /** Query parameter names of external participant ids recorded at sign-up. */
  externalIdParams: readonly string[];
  /** Grants an invitation's qualification to a new worker. */
  grant(workerId: string, qualificationTypeId: string, value: number): void;
  /** Anyone may create an account without an invitation. */
  openSignUp: boolean;
  /** Client address for rate limits (the proxy's X-Forwarded-For when trusted). */
  addressOf(req: IncomingMessage): string;
}

const SESSION_COOKIE = 'hs_session';
const PRE_CSRF_COOKIE = 'hs_csrf';

export const SITE_CSS = `
:root{--ink:#1d2733;--muted:#5b6675;--line:#d9dee5;--bg:#f5f7fa;--brand:#0b5cad;--ok:#1c7c3c;--warn:#a15c00}
*{box-sizing:border-box}body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--ink);background:var(--bg)}
header{background:#12263f;color:#fff;padding:.7rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}header nav{display:flex;gap:1rem;margin-left:auto;align-items:center}
a{color:var(--brand)}a:focus,button:focus,input:focus,select:focus{outline:3px solid #ffbf47;outline-offset:2px}
main{padding:1rem;max-width:1100px;margin:auto}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.2rem;margin-bottom:1rem}
.muted{color:var(--muted)}.error{border-color:#c62828;background:#fff5f5}.notice{border-color:var(--warn);background:#fffaf0}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}input,select{font:inherit;padding:.45rem .6rem;border:1px solid #8a94a3;border-radius:4px;width:100%;max-width:24rem}
button{font:inherit;padding:.45rem 1.1rem;border-radius:4px;border:1px solid #5b6675;background:#fff;cursor:pointer}
button.primary{background:var(--brand);border-color:var(--brand);color:#fff;font-weight:600}
button.link{border:none;background:none;color:#fff;padding:0;text-decoration:underline}
table{border-collapse:collapse;width:100%}td,th{padding:.45rem .6rem;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
.tag{display:inline-block;border-radius:3px;padding:0 .4rem;font-size:.85rem;background:#e8eef6}.yes{color:var(--ok)}.no{color:#b3261e}
iframe{width:100%;border:1px solid var(--line);border-radius:6px;background:#fff}
textarea{font:inherit;width:100%;padding:.45rem .6rem;border:1px solid #8a94a3;border-radius:4px}
fieldset{border:1px solid var(--line);border-radius:6px;margin:.8rem 0;padding:.4rem .9rem}legend{font-weight:600;padding:0 .3rem}
label.choice{font-weight:400;display:flex;gap:.5rem;align-items:center}label.choice input{width:auto}
form.inline{display:inline}.row{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end}.row label{margin:0}
@media (max-width:640px){td,th{display:block;border:none}tr{display:block;border-bottom:1px solid var(--line);padding:.4rem 0}th{display:none}}
`;

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}

const sameToken = (a: string | undefined, b: string | undefined): boolean => {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The worker site's request handler. */
export class WorkerSite {
  readonly #o: WorkerSiteOptions;
  readonly #limiter = new SignInLimiter();
  readonly #origin: string;

  constructor(options: WorkerSiteOptions) {
    this.#o = options;
    this.#origin = new URL(options.publicUrl).origin;
  }

  /** The submit capability of an assignment (HMAC of assignment and worker). */
  capability(a: AssignmentRecord): string {
    return createHmac('sha256', this.#o.siteKey).update(`${a.assignmentId}\n${a.workerId}`).digest('base64url');
  }

  #headers(res: ServerResponse, extraFrameSrc = ''): void {
    const content = new URL(this.#o.contentUrl).origin;
    res.setHeader(
      'content-security-policy',
      `default-src 'self'; frame-src ${content} https: http://127.0.0.1:* http://localhost:*${extraFrameSrc}; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'`,
    );
    res.setHeader('x-content-type-options', 'nosniff');
    // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the site's own forms.
    res.setHeader('referrer-policy', 'same-origin');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('cache-control', 'no-store');
  }

  #send(res: ServerResponse, status: number, html: string, cookies: string[] = []): void {
    if (cookies.length) res.setHeader('set-cookie', cookies);
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
    res.end(html);
  }

  #redirect(res: ServerResponse, to: string, cookies: string[] = []): void {
    if (cookies.length) res.setHeader('set-cookie', cookies);
    res.writeHead(303, { location: to, 'content-length': 0 });
    res.end();
  }

  /** Parsed questions by their XML: the task page and each submit read the HIT's question. */
  readonly #questions = new Map<string, ParsedQuestion>();

  #question(xml: string): ParsedQuestion {
    let q = this.#questions.get(xml);
    if (q === undefined) {
      q = parseQuestion(xml);
      if (this.#questions.size >= 500) this.#questions.clear(); // bounded: HITs may each have their own
      this.#questions.set(xml, q);
    }
    return q;
  }

  #cookie(name: string, value: string, maxAgeSec: number): string {
    return `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=${maxAgeSec}`;
  }

  #page(title: string, body: string, session?: { username: string; csrf: string }): string {
    const nav = session
      ? `<nav><a href="/work">Find work</a><a href="/dashboard">Dashboard</a><span>${escapeHtml(session.username)}</span>
<form class="inline" method="post" action="/signout"><input type="hidden" name="csrf" value="${escapeHtml(session.csrf)}"><button class="link">Sign out</button></form></nav>`
      : '<nav><a href="/signin">Sign in</a></nav>';
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · hitstate crowd</title><link rel="stylesheet" href="/site.css"></head>
<body><header><a href="/work">hitstate crowd</a>${nav}</header><main id="main">${body}</main></body></html>
`;
  }

  async #form(req: IncomingMessage): Promise<URLSearchParams> {
    const raw = await readBody(req, this.#o.maxBodyBytes);
    return new URLSearchParams(raw.toString('utf8'));
  }

  /** Handles a site route; false when the path is not the site's. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<{ handled: boolean; workerId?: string }> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/site.css' && method === 'GET') {
      res.writeHead(200, {
        'content-type': 'text/css; charset=utf-8',
        'cache-control': 'public, max-age=3600',
        'x-content-type-options': 'nosniff',
      });
      res.end(SITE_CSS);
      return { handled: true };
    }
    const routes = [
      '/',
      '/signin',
      '/signup',
      '/signout',
      '/work',
      '/preview',
      '/accept',
      '/task',
      '/return',
      '/dashboard',
      '/qualification',
    ];
    const submitMatch = /^\/submit\/([A-Za-z0-9_-]{43})\/+mturk\/externalSubmit$/.exec(path);
    if (!routes.includes(path) && !submitMatch) return { handled: false };
    this.#headers(res);
    if (submitMatch) {
      // Its answer shows inside the task's frame, on the site's own task page.
      res.setHeader('x-frame-options', 'SAMEORIGIN');
      res.setHeader(
        'content-security-policy',
        "default-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'",
      );
      return this.#externalSubmit(req, res, submitMatch[1]!);
    }
    const cookies = parseCookies(req.headers.cookie);
    const session = sessionOf(this.#o.db, cookies[SESSION_COOKIE]);
    if (method === 'POST') {
      // A form post from another site is refused before anything is read.
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== this.#origin) {
        this.#send(
          res,
          403,
          this.#page(
            'Refused',
            '<div class="card error"><h1>Refused</h1><p>This form was sent from another site.</p></div>',
          ),
        );
        return { handled: true };
      }
    }
    const out = { handled: true, ...(session ? { workerId: session.workerId } : {}) };
    if (path === '/signin' || path === '/signup') {
      await this.#signInUp(req, res, url, path, cookies, session);
      return out;
    }
    if (!session) {
      if (method === 'POST')
        this.#send(
          res,
          403,
          this.#page(
            'Signed out',
            '<div class="card error"><h1>Please sign in</h1><p>Your session has ended. <a href="/signin">Sign in</a> and try again.</p></div>',
          ),
        );
      else this.#redirect(res, `/signin?next=${encodeURIComponent(path + url.search)}`);
      return out;
    }
    if (method === 'POST') {
      let form: URLSearchParams;
      try {
        form = await this.#form(req);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          this.#send(
            res,
            413,
            this.#page(
              'Too large',
              '<div class="card error"><h1>Too large</h1><p>The form is too large.</p></div>',
              session,
            ),
          );
          return out;
        }
        throw err;
      }
      if (!sameToken(form.get('csrf') ?? undefined, session.csrf)) {
        this.#send(
          res,
          403,
          this.#page(
            'Refused',
            '<div class="card error"><h1>Refused</h1><p>This form has expired or did not come from this site. Go back, reload the page and try again.</p></div>',
            session,
          ),
        );
        return out;
      }
      if (path === '/signout') {
        endSessions(this.#o.db, session.workerId);
        this.#redirect(res, '/signin', [this.#cookie(SESSION_COOKIE, '', 0)]);
      } else if (path === '/accept') this.#accept(res, session, form);
      else if (path === '/return') this.#return(res, session, form);
      else if (path === '/qualification') this.#requestQualification(res, session, form);
      else
        this.#send(
          res,
          405,
          this.#page('Not allowed', '<div class="card error"><p>Use the page\'s buttons.</p></div>', session),
        );
      return out;
    }
    if (path === '/' || path === '/work') this.#send(res, 200, this.#workPage(url, session));
    else if (path === '/preview') this.#preview(res, url, session);
    else if (path === '/task') this.#task(res, url, session);
    else if (path === '/dashboard') this.#send(res, 200, this.#dashboard(session));
    else if (path === '/qualification') this.#qualificationPage(res, url.searchParams.get('type') ?? '', session);
    else
      this.#send(
        res,
        405,
        this.#page('Not allowed', '<div class="card error"><p>Use the page\'s buttons.</p></div>', session),
      );
    return out;
  }

  // --- sign-in, sign-up --------------------------------------------------------------------

  async #signInUp(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    path: string,
    cookies: Record<string, string>,
    session: ReturnType<typeof sessionOf>,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      if (session && path === '/signin') return this.#redirect(res, '/work');
      const csrf = cookies[PRE_CSRF_COOKIE] ?? randomBytes(24).toString('base64url');
      const set = [this.#cookie(PRE_CSRF_COOKIE, csrf, 3600)];
      if (path === '/signin')
        return this.#send(res, 200, this.#signInPage(csrf, url.searchParams.get('next') ?? ''), set);
      const invite = url.searchParams.get('invite') ?? '';
      let externalId = '';
      for (const p of this.#o.externalIdParams) externalId ||= url.searchParams.get(p) ?? '';
      return this.#send(res, 200, this.#signUpPage(csrf, invite, externalId.slice(0, 128)), set);
    }
    if (method !== 'POST')
      return this.#send(res, 405, this.#page('Not allowed', '<div class="card error"><p>Use the form.</p></div>'));
    const form = await this.#form(req);
    if (!sameToken(form.get('csrf') ?? undefined, cookies[PRE_CSRF_COOKIE])) {
      return this.#send(
        res,
        403,
        this.#page(
          'Refused',
          '<div class="card error"><h1>Refused</h1><p>This form has expired. Reload the page and try again.</p></div>',
        ),
      );
    }
    const username = (form.get('username') ?? '').trim();
    const password = form.get('password') ?? '';
    const csrf = cookies[PRE_CSRF_COOKIE]!;
    if (path === '/signin') {
      const limit = this.#limiter.take(username, this.#o.addressOf(req), Date.now());
      if (!limit.ok) {
        res.setHeader('retry-after', String(limit.retryAfterSec));
        return this.#send(
          res,
          429,
          this.#signInPage(
            csrf,
            '',
            `Too many sign-in attempts. Wait ${Math.ceil(limit.retryAfterSec / 60)} minute(s) and try again.`,
          ),
        );
      }
      const workerId = await checkSignIn(this.#o.db, username, password);
      if (!workerId)
        return this.#send(
          res,
          401,
          this.#signInPage(csrf, form.get('next') ?? '', 'The username or password is wrong.'),
        );
      this.#limiter.reset(username);
      const s = openSession(this.#o.db, workerId);
      const next = form.get('next') ?? '';
      return this.#redirect(res, next.startsWith('/') && !next.startsWith('//') ? next : '/work', [
        this.#cookie(SESSION_COOKIE, s.token, SESSION_TTL_MS / 1000),
      ]);
    }
    const invite = (form.get('invite') ?? '').trim();
    const externalId = (form.get('externalId') ?? '').trim().slice(0, 128);
    try {
      const { workerId, qualification } = await signUp(this.#o.db, {
        invite,
        username,
        password,
        openSignUp: this.#o.openSignUp,
        ...(externalId ? { externalId } : {}),
      });
      if (qualification) this.#o.grant(workerId, qualification.qualificationTypeId, qualification.value);
      const s = openSession(this.#o.db, workerId);
      return this.#redirect(res, '/work', [this.#cookie(SESSION_COOKIE, s.token, SESSION_TTL_MS / 1000)]);
    } catch (err) {
      if (!(err instanceof SignUpError)) throw err;
      return this.#send(res, 400, this.#signUpPage(csrf, invite, externalId, `${err.field}: ${err.message}`, username));
    }
  }

  #signInPage(csrf: string, next: string, error = ''): string {
    return this.#page(
      'Sign in',
      `<div class="card"><h1>Sign in</h1>${error ? `<p class="card error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/signin"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><input type="hidden" name="next" value="${escapeHtml(next)}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button class="primary">Sign in</button></p></form>
<p class="muted">${this.#o.openSignUp ? 'New here? <a href="/signup">Create an account</a>.' : 'New here? You need an invitation link from the team that recruited you.'}</p></div>`,
    );
  }

  #signUpPage(csrf: string, invite: string, externalId: string, error = '', username = ''): string {
    const status: ReturnType<typeof inviteStatus> = invite
      ? inviteStatus(this.#o.db, invite, Date.now())
      : this.#o.openSignUp
        ? { ok: true }
        : { ok: false, reason: 'Sign-up needs an invitation link.' };
    const warn = !status.ok ? `<p class="card notice" role="status">${escapeHtml(status.reason)}</p>` : '';
    return this.#page(
      'Create your account',
      `<div class="card"><h1>Create your account</h1>${warn}${error ? `<p class="card error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/signup"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<label for="invite">Invitation code${this.#o.openSignUp ? ' (if you have one)' : ''}</label><input id="invite" name="invite" value="${escapeHtml(invite)}"${this.#o.openSignUp ? '' : ' required'}>
${externalId ? `<input type="hidden" name="externalId" value="${escapeHtml(externalId)}"><p class="muted">Participant id ${escapeHtml(externalId)} will be linked to this account.</p>` : ''}
<label for="username">Username</label><input id="username" name="username" value="${escapeHtml(username)}" autocomplete="username" required minlength="3" maxlength="64">
<label for="password">Password (10 characters or more)</label><input id="password" name="password" type="password" autocomplete="new-password" required minlength="10">
<p><button class="primary">Create account</button></p></form></div>`,
    );
  }

  // --- work ----------------------------------------------------------------------------------

  #groups(): { type: HitTypeRecord; first: HitRecord; available: number }[] {
    const { engine } = this.#o;
    const out: { type: HitTypeRecord; first: HitRecord; available: number }[] = [];
    for (const type of engine.state.hitTypes.values()) {
      const assignable = engine.state.assignableHitsOf(type.hitTypeId);
      const first = assignable.values().next();
      if (first.done) continue;
      let available = 0;
      for (const h of assignable.values()) available += Math.max(0, engine.available(h));
      out.push({ type, first: first.value, available });
    }
    return out;
  }

  #workPage(url: URL, session: { workerId: string; username: string; csrf: string }): string {
    const { engine } = this.#o;
    const q = (url.searchParams.get('q') ?? '').trim().toLowerCase().slice(0, 100);
    const sort = url.searchParams.get('sort') ?? 'newest';
    let groups = this.#groups().filter(
      (g) => !q || [g.type.title, g.type.description, g.type.keywords ?? ''].some((s) => s.toLowerCase().includes(q)),
    );
    if (sort === 'reward') groups = groups.sort((a, b) => b.type.rewardCents - a.type.rewardCents);
    else if (sort === 'available') groups = groups.sort((a, b) => b.available - a.available);
    else groups = groups.sort((a, b) => b.type.seq - a.type.seq);
    const rows = groups.map((g) => {
      const why = refusal(engine, session.workerId, g.first, 'accept');
      const reqs = g.type.qualificationRequirements
        .map((r) => escapeHtml(describeRequirement(engine.state, r)))
        .join('<br>');
      const requester = engine.state.accounts.get(g.type.account)?.customerId ?? '';
      return `<tr><td><a href="/preview?group=${encodeURIComponent(g.type.hitTypeId)}">${escapeHtml(g.type.title)}</a><br><span class="muted">${escapeHtml(g.type.description)}</span></td>
<td>${escapeHtml(requester)}</td><td>$${escapeHtml(g.type.reward)}</td><td>${Math.round(g.type.assignmentDurationSec / 60)} min</td><td>${g.available}</td>
<td>${reqs || '<span class="muted">none</span>'}${why ? `<br><span class="no">Not available to you: ${escapeHtml(why.message.replace(/^Worker \S+ /, ''))}</span>` : reqs ? '<br><span class="yes">You qualify</span>' : ''}</td></tr>`;
    });
    const opt = (v: string, label: string) => `<option value="${v}"${sort === v ? ' selected' : ''}>${label}</option>`;
    return this.#page(
      'Find work',
      `<div class="card"><h1>Available HITs</h1><form class="row" method="get" action="/work" role="search">
<div><label for="q">Search</label><input id="q" name="q" value="${escapeHtml(q)}"></div>
<div><label for="sort">Sort by</label><select id="sort" name="sort">${opt('newest', 'Newest')}${opt('reward', 'Reward')}${opt('available', 'HITs available')}</select></div>
<div><button>Apply</button></div></form></div>
<div class="card">${rows.length ? `<table><thead><tr><th>HIT group</th><th>Requester</th><th>Reward</th><th>Time allotted</th><th>HITs</th><th>Qualifications</th></tr></thead><tbody>${rows.join('')}</tbody></table>` : '<p class="muted">No HITs are available right now. Check again later.</p>'}</div>`,
      session,
    );
  }

  #preview(res: ServerResponse, url: URL, session: { workerId: string; username: string; csrf: string }): void {
    const { engine } = this.#o;
    const groupId = url.searchParams.get('group') ?? '';
    const group = this.#groups().find((g) => g.type.hitTypeId === groupId);
    if (!group) {
      this.#send(
        res,
        404,
        this.#page(
          'Not available',
          '<div class="card notice"><h1>No longer available</h1><p>This HIT group has no HITs left. <a href="/work">Find other work</a>.</p></div>',
          session,
        ),
      );
      return;
    }
    const why = refusal(engine, session.workerId, group.first, 'accept');
    const previewBlocked = refusal(engine, session.workerId, group.first, 'preview');
    const frame = previewBlocked ? '' : this.#frame(group.first, undefined);
    this.#send(
      res,
      200,
      this.#page(
        group.type.title,
        `<div class="card"><h1>${escapeHtml(group.type.title)}</h1><p>${escapeHtml(group.type.description)}</p>
<p>Reward <strong>$${escapeHtml(group.type.reward)}</strong> · ${Math.round(group.type.assignmentDurationSec / 60)} minutes allotted · ${group.available} HIT(s) available</p>
${why ? `<p class="card notice" role="status">You cannot accept this HIT: ${escapeHtml(why.message.replace(/^Worker \S+ /, ''))}</p>${this.#requestLinks(group.type, session.workerId)}` : `<form method="post" action="/accept"><input type="hidden" name="csrf" value="${escapeHtml(session.csrf)}"><input type="hidden" name="group" value="${escapeHtml(groupId)}"><button class="primary">Accept and work</button></form>`}</div>
${frame}`,
        session,
      ),
    );
  }

  // --- qualification requests ----------------------------------------------------------------

  /** The requester's qualification types a HIT group requires that the worker does not hold. */
  #requestLinks(type: HitTypeRecord, workerId: string): string {
    const { state } = this.#o.engine;
    const links = type.qualificationRequirements
      .map((r) => state.qualificationTypes.get(r.QualificationTypeId))
      .filter(
        (q) =>
          q &&
          !q.deleted &&
          q.status === 'Active' &&
          state.grant(q.qualificationTypeId, workerId)?.status !== 'Granted',
      )
      .map(
        (q) =>
          `<li><a href="/qualification?type=${encodeURIComponent(q!.qualificationTypeId)}">Request “${escapeHtml(q!.name)}”</a></li>`,
      );
    return links.length ? `<ul>${links.join('')}</ul>` : '';
  }

  /**
   * A qualification type a worker may ask for: one that an available HIT group requires (a
   * worker learns of a requester's private type only through its HITs), or one the worker has
   * asked for before.
   */
  #requestable(typeId: string, workerId: string): QualificationTypeRecord | undefined {
    const { state } = this.#o.engine;
    const q = state.qualificationTypes.get(typeId);
    if (!q || q.deleted) return undefined;
    if (state.latestQualificationRequest(typeId, workerId)) return q;
    return this.#groups().some((g) => g.type.qualificationRequirements.some((r) => r.QualificationTypeId === typeId))
      ? q
      : undefined;
  }

  #qualificationPage(
    res: ServerResponse,
    typeId: string,
    session: { workerId: string; username: string; csrf: string },
    notice = '',
    status = 200,
  ): void {
    const { state } = this.#o.engine;
    const q = this.#requestable(typeId, session.workerId);
    if (!q) {
      this.#send(
        res,
        404,
        this.#page(
          'Not found',
          '<div class="card notice"><h1>Not found</h1><p>No such qualification is asked for by the HITs available. <a href="/work">Find work</a>.</p></div>',
          session,
        ),
      );
      return;
    }
    const held = state.grant(q.qualificationTypeId, session.workerId);
    const last = state.latestQualificationRequest(q.qualificationTypeId, session.workerId);
    const statusLine =
      held?.status === 'Granted'
        ? `<p class="yes">You hold this qualification${held.integerValue !== undefined ? ` (score ${escapeHtml(held.integerValue)})` : ''}.</p>`
        : last
          ? `<p>Your request of ${escapeHtml(new Date(last.submitMs).toUTCString())}: <strong>${escapeHtml(last.status)}</strong>${last.reason ? ` (${escapeHtml(last.reason)})` : ''}.</p>`
          : '';
    let action = '';
    if (held?.status !== 'Granted' && last?.status !== 'Pending' && q.status === 'Active') {
      const test = q.test ? parseQuestion(q.test) : undefined;
      const fields = test?.kind === 'QuestionForm' ? this.#questionFields(test.questions, false) : '';
      action = `<form method="post" action="/qualification"><input type="hidden" name="csrf" value="${escapeHtml(session.csrf)}"><input type="hidden" name="type" value="${escapeHtml(q.qualificationTypeId)}">${test ? '<h2>Test</h2>' : ''}${fields}<p><button class="primary">${q.autoGranted ? 'Get this qualification' : 'Request this qualification'}</button></p></form>`;
    }
    this.#send(
      res,
      status,
      this.#page(
        q.name,
        `<div class="card"><h1>${escapeHtml(q.name)}</h1><p>${escapeHtml(q.description)}</p>${notice}${statusLine}${action}</div>`,
        session,
      ),
    );
  }

  #requestQualification(
    res: ServerResponse,
    session: { workerId: string; username: string; csrf: string },
    form: URLSearchParams,
  ): void {
    const typeId = form.get('type') ?? '';
    const q = this.#requestable(typeId, session.workerId);
    if (!q) {
      this.#qualificationPage(res, typeId, session);
      return;
    }
    const test = q.test ? parseQuestion(q.test) : undefined;
    const fields = [...form.entries()].filter(([k]) => k !== 'csrf' && k !== 'type');
    const selections = new Set<string>();
    if (test?.kind === 'QuestionForm') {
      const problem = this.#selectionProblem(test.questions, fields, selections);
      if (problem) {
        this.#qualificationPage(
          res,
          typeId,
          session,
          `<p class="card error" role="alert">${escapeHtml(problem)}</p>`,
          400,
        );
        return;
      }
    }
    try {
      requestQualification(this.#o.engine, session.workerId, q.qualificationTypeId, fields, selections);
      this.#redirect(res, `/qualification?type=${encodeURIComponent(q.qualificationTypeId)}`);
    } catch (err) {
      if (!isHitstateError(err)) throw err;
      this.#qualificationPage(
        res,
        typeId,
        session,
        `<p class="card notice" role="status">${escapeHtml(err.message.replace(/^Worker \S+ /, 'You '))}</p>`,
        409,
      );
    }
  }

  /** Checks a QuestionForm's selection answers (they must be its own choices); notes which are selections. */
  #selectionProblem(
    questions: readonly FormQuestion[],
    fields: readonly (readonly [string, string])[],
    selections: Set<string>,
  ): string | undefined {
    for (const question of questions) {
      if (!question.selections) continue;
      selections.add(question.identifier);
      const allowed = new Set(question.selections.map((s) => s.id));
      const picked = fields.filter(([k]) => k === question.identifier);
      if (picked.some(([, v]) => !allowed.has(v)) || (!question.multiple && picked.length > 1))
        return `The answer to “${question.text}” is not one of its choices. Choose again.`;
    }
    return undefined;
  }

  #frame(hit: HitRecord, a: AssignmentRecord | undefined): string {
    const q = this.#question(hit.question);
    const assignmentId = a?.assignmentId ?? 'ASSIGNMENT_ID_NOT_AVAILABLE';
    const params = new URLSearchParams({ assignmentId, hitId: hit.hitId });
    if (a) {
      params.set('workerId', a.workerId);
      params.set('turkSubmitTo', `${this.#o.publicUrl.replace(/\/$/, '')}/submit/${this.capability(a)}`);
    }
    if (q.kind === 'QuestionForm') return this.#questionForm(q.questions, a);
    if (q.kind === 'ExternalQuestion') {
      const src = `${q.externalUrl}${q.externalUrl.includes('?') ? '&' : '?'}${params}`;
      const height = q.frameHeight > 0 ? q.frameHeight : 700;
      return `<iframe title="Task" src="${escapeHtml(src)}" height="${height}" sandbox="allow-scripts allow-forms allow-same-origin allow-popups"></iframe>`;
    }
    // Requester HTML: from the content origin, sandboxed without allow-same-origin (an opaque origin).
    const src = `${this.#o.contentUrl.replace(/\/$/, '')}/question/${encodeURIComponent(hit.hitId)}?${params}`;
    const height = q.kind === 'HTMLQuestion' && q.frameHeight > 0 ? q.frameHeight : 700;
    return `<iframe title="Task" src="${escapeHtml(src)}" height="${height}" sandbox="allow-scripts allow-forms"></iframe>`;
  }

  /**
   * A QuestionForm as a form on the site's own page: it is plain data (texts and choices, all
   * escaped), not requester HTML. It posts to the assignment's submit address like any task.
   */
  #questionForm(questions: readonly FormQuestion[], a: AssignmentRecord | undefined): string {
    const fields = this.#questionFields(questions, !a);
    const disabled = a ? '' : ' disabled';
    const action = a ? `/submit/${this.capability(a)}/mturk/externalSubmit` : '#';
    const hidden = a ? `<input type="hidden" name="assignmentId" value="${escapeHtml(a.assignmentId)}">` : '';
    return `<div class="card"><form method="post" action="${escapeHtml(action)}">${hidden}${fields}<button class="primary"${disabled}>Submit</button>${a ? '' : ' <span class="muted">Accept the HIT to answer.</span>'}</form></div>`;
  }

  /** A QuestionForm's questions as form fields (all text escaped). */
  #questionFields(questions: readonly FormQuestion[], preview: boolean): string {
    const disabled = preview ? ' disabled' : '';
    return questions
      .map((q, i) => {
        const name = escapeHtml(q.identifier);
        if (!q.selections)
          return `<p><label for="q${i}">${escapeHtml(q.text)}</label><textarea id="q${i}" name="${name}" rows="3"${disabled}></textarea></p>`;
        const type = q.multiple ? 'checkbox' : 'radio';
        const choices = q.selections
          .map(
            (s, j) =>
              `<label class="choice"><input type="${type}" name="${name}" value="${escapeHtml(s.id)}" id="q${i}-${j}"${!q.multiple && j === 0 ? ' required' : ''}${disabled}> ${escapeHtml(s.text)}</label>`,
          )
          .join('');
        return `<fieldset><legend>${escapeHtml(q.text)}</legend>${choices}</fieldset>`;
      })
      .join('');
  }

  #accept(
    res: ServerResponse,
    session: { workerId: string; username: string; csrf: string },
    form: URLSearchParams,
  ): void {
    try {
      const a = accept(this.#o.engine, session.workerId, { hitTypeId: form.get('group') ?? '' });
      this.#redirect(res, `/task?assignment=${encodeURIComponent(a.assignmentId)}`);
    } catch (err) {
      if (!isHitstateError(err)) throw err;
      this.#send(
        res,
        409,
        this.#page(
          'Not accepted',
          `<div class="card notice"><h1>Not accepted</h1><p>${escapeHtml(err.message.replace(/^Worker \S+ /, 'You '))}</p><p><a href="/work">Find other work</a></p></div>`,
          session,
        ),
      );
    }
  }

  /** The caller's own assignment, or undefined (another worker's looks exactly like a missing one). */
  #own(workerId: string, assignmentId: string | null): AssignmentRecord | undefined {
    const a = assignmentId ? this.#o.engine.state.assignments.get(assignmentId) : undefined;
    return a && a.workerId === workerId ? a : undefined;
  }

  #task(res: ServerResponse, url: URL, session: { workerId: string; username: string; csrf: string }): void {
    const a = this.#own(session.workerId, url.searchParams.get('assignment'));
    if (a?.status !== 'Accepted') {
      this.#send(
        res,
        404,
        this.#page(
          'Not found',
          '<div class="card notice"><h1>No such task in progress</h1><p>It may have been submitted, returned or timed out. <a href="/dashboard">Your dashboard</a> lists your work.</p></div>',
          session,
        ),
      );
      return;
    }
    const hit = this.#o.engine.state.hits.get(a.hitId)!;
    const type = this.#o.engine.type(hit);
    this.#send(
      res,
      200,
      this.#page(
        type.title,
        `<div class="card"><h1>${escapeHtml(type.title)}</h1><p>Reward $${escapeHtml(type.reward)} · submit by <time datetime="${new Date(a.deadlineMs).toISOString()}">${escapeHtml(new Date(a.deadlineMs).toUTCString())}</time></p>
<form method="post" action="/return"><input type="hidden" name="csrf" value="${escapeHtml(session.csrf)}"><input type="hidden" name="assignment" value="${escapeHtml(a.assignmentId)}"><button>Return this HIT</button></form></div>
${this.#frame(hit, a)}`,
        session,
      ),
    );
  }

  #return(
    res: ServerResponse,
    session: { workerId: string; username: string; csrf: string },
    form: URLSearchParams,
  ): void {
    const a = this.#own(session.workerId, form.get('assignment'));
    if (a?.status !== 'Accepted') {
      this.#send(
        res,
        404,
        this.#page('Not found', '<div class="card notice"><h1>No such task in progress</h1></div>', session),
      );
      return;
    }
    returnAssignment(this.#o.engine, a.assignmentId);
    this.#redirect(res, '/dashboard');
  }

  async #externalSubmit(
    req: IncomingMessage,
    res: ServerResponse,
    cap: string,
  ): Promise<{ handled: boolean; workerId?: string }> {
    if (req.method !== 'POST') {
      this.#send(res, 405, this.#page('Not allowed', '<div class="card error"><p>Submit the task form.</p></div>'));
      return { handled: true };
    }
    const raw = await readBody(req, this.#o.maxBodyBytes);
    const type = String(req.headers['content-type'] ?? 'application/x-www-form-urlencoded');
    let fields: [string, string][];
    try {
      // A plain form is read directly; only multipart (a task with a file input) needs the Fetch parser.
      if (/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type))
        fields = [...new URLSearchParams(raw.toString('utf8'))];
      else {
        const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': type } }).formData();
        fields = [...form.entries()].map(([k, v]) => [k, typeof v === 'string' ? v : v.name]);
      }
    } catch {
      this.#send(
        res,
        400,
        this.#page('Bad request', '<div class="card error"><p>The task sent a form that cannot be read.</p></div>'),
      );
      return { handled: true };
    }
    const assignmentId = fields.find(([k]) => k === 'assignmentId')?.[1];
    const a = assignmentId ? this.#o.engine.state.assignments.get(assignmentId) : undefined;
    if (!a || !sameToken(cap, this.capability(a))) {
      this.#send(
        res,
        403,
        this.#page(
          'Refused',
          '<div class="card error"><h1>Refused</h1><p>This submission is not from the worker who holds the assignment.</p></div>',
        ),
      );
      return { handled: true };
    }
    if (a.status !== 'Accepted') {
      this.#send(
        res,
        409,
        this.#page(
          'Already done',
          '<div class="card notice"><h1>Not submitted</h1><p>This assignment was already submitted, returned or timed out.</p></div>',
        ),
      );
      return { handled: true, workerId: a.workerId };
    }
    // A QuestionForm's choices must be its own; they are answered as SelectionIdentifiers.
    const hit = this.#o.engine.state.hits.get(a.hitId)!;
    const q = this.#question(hit.question);
    const selections = new Set<string>();
    const problem = q.kind === 'QuestionForm' ? this.#selectionProblem(q.questions, fields, selections) : undefined;
    if (problem) {
      this.#send(
        res,
        400,
        this.#page('Bad request', `<div class="card error"><p>${escapeHtml(problem)} Go back and try again.</p></div>`),
      );
      return { handled: true, workerId: a.workerId };
    }
    submit(this.#o.engine, a.assignmentId, fields, selections);
    this.#send(
      res,
      200,
      this.#page(
        'Submitted',
        '<div class="card"><h1>Thank you: your work was submitted</h1><p><a href="/work" target="_top">Find more work</a> · <a href="/dashboard" target="_top">Dashboard</a></p></div>',
      ),
    );
    return { handled: true, workerId: a.workerId };
  }

  // --- dashboard -----------------------------------------------------------------------------

  #dashboard(session: { workerId: string; username: string; csrf: string; externalId?: string | null }): string {
    const { engine, db } = this.#o;
    // From the database, where deleted HITs' work stays (memory holds only live records); the
    // in-memory copy wins for a live assignment (rows are written before every reply anyway).
    const mine = (
      db
        .prepare("SELECT data FROM records WHERE worker_id = ? AND kind = 'assignment'")
        .pluck()
        .all(session.workerId) as string[]
    ).map((d) => {
      const a = JSON.parse(d) as AssignmentRecord;
      return (Map.prototype.get.call(engine.state.assignments, a.assignmentId) as AssignmentRecord | undefined) ?? a;
    });
    const hitTypes = new Map<string, HitTypeRecord | undefined>();
    const typeOf = (a: AssignmentRecord): HitTypeRecord | undefined => {
      if (!hitTypes.has(a.hitId)) {
        const hit =
          (Map.prototype.get.call(engine.state.hits, a.hitId) as HitRecord | undefined) ??
          readRecord(db, 'hit', a.hitId);
        hitTypes.set(a.hitId, hit ? engine.state.hitTypes.get(hit.hitTypeId) : undefined);
      }
      return hitTypes.get(a.hitId);
    };
    const titleOf = (a: AssignmentRecord) => typeOf(a)?.title ?? a.hitId;
    const rewardOf = (a: AssignmentRecord) => typeOf(a)?.rewardCents ?? 0;
    const inProgress = mine.filter((a) => a.status === 'Accepted');
    const history = mine
      .filter((a) => a.status === 'Submitted' || a.status === 'Approved' || a.status === 'Rejected')
      .sort((x, y) => (y.submitMs ?? 0) - (x.submitMs ?? 0));
    const pending = history.filter((a) => a.status === 'Submitted').reduce((s, a) => s + rewardOf(a), 0);
    const approved = history.filter((a) => a.status === 'Approved').reduce((s, a) => s + rewardOf(a), 0);
    const bonuses = engine.state.bonuses
      .filter((b) => b.workerId === session.workerId)
      .reduce((s, b) => s + b.amountCents, 0);
    const owed = balances(db).get(workerAccount(session.workerId)) ?? 0;
    const paid = approved + bonuses - owed;
    const grants = [...engine.state.grants.values()].filter(
      (g) => g.workerId === session.workerId && g.status === 'Granted',
    );
    const requests = [...engine.state.qualificationRequests.values()]
      .filter((r) => r.workerId === session.workerId)
      .sort((x, y) => y.seq - x.seq);
    const row = (a: AssignmentRecord) =>
      `<tr><td>${escapeHtml(titleOf(a))}</td><td>${escapeHtml(a.status)}</td><td>$${formatCents(rewardOf(a))}</td><td>${escapeHtml(a.requesterFeedback ?? '')}</td></tr>`;
    return this.#page(
      'Dashboard',
      `<div class="card"><h1>Earnings</h1><table><tbody>
<tr><th>Pending approval</th><td>$${formatCents(pending)}</td></tr><tr><th>Approved</th><td>$${formatCents(approved)}</td></tr>
<tr><th>Bonuses</th><td>$${formatCents(bonuses)}</td></tr><tr><th>Paid out</th><td>$${formatCents(paid)}</td></tr>
<tr><th>Owed to you</th><td><strong>$${formatCents(owed)}</strong></td></tr></tbody></table>
<p class="muted">Worker id ${escapeHtml(session.workerId)}</p></div>
<div class="card"><h2>In progress</h2>${inProgress.length ? `<table><tbody>${inProgress.map((a) => `<tr><td><a href="/task?assignment=${encodeURIComponent(a.assignmentId)}">${escapeHtml(titleOf(a))}</a></td><td>due <time datetime="${new Date(a.deadlineMs).toISOString()}">${escapeHtml(new Date(a.deadlineMs).toUTCString())}</time></td></tr>`).join('')}</tbody></table>` : '<p class="muted">Nothing in progress.</p>'}</div>
<div class="card"><h2>History</h2>${history.length ? `<table><thead><tr><th>HIT</th><th>Status</th><th>Reward</th><th>Feedback</th></tr></thead><tbody>${history.map(row).join('')}</tbody></table>` : '<p class="muted">No submitted work yet.</p>'}</div>
<div class="card"><h2>Qualification requests</h2>${requests.length ? `<table><tbody>${requests.map((r) => `<tr><td><a href="/qualification?type=${encodeURIComponent(r.qualificationTypeId)}">${escapeHtml(engine.state.qualificationTypes.get(r.qualificationTypeId)?.name ?? r.qualificationTypeId)}</a></td><td>${escapeHtml(r.status)}</td><td>${escapeHtml(r.reason ?? '')}</td></tr>`).join('')}</tbody></table>` : '<p class="muted">None. A HIT that needs a qualification you can ask for links to it.</p>'}</div>
<div class="card"><h2>Qualifications</h2>${grants.length ? `<ul>${grants.map((g) => `<li>${escapeHtml(engine.state.qualificationTypes.get(g.qualificationTypeId)?.name ?? g.qualificationTypeId)}: ${escapeHtml(g.integerValue ?? '')}</li>`).join('')}</ul>` : '<p class="muted">None yet.</p>'}</div>`,
      session,
    );
  }
}

/** The content origin's handler: requester HTML (HTMLQuestion) under its own CSP sandbox. */
export function handleContent(engine: Engine, publicUrl: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://content.invalid');
  const m = /^\/question\/([A-Z0-9]{1,64})$/.exec(url.pathname);
  const hit = m ? engine.state.hits.get(m[1]!) : undefined;
  const q = hit ? parseQuestion(hit.question) : undefined;
  const site = new URL(publicUrl).origin;
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  if (req.method !== 'GET' || !q || q.kind !== 'HTMLQuestion') {
    res.writeHead(404, {
      'content-type': 'text/plain; charset=utf-8',
      'content-security-policy': "default-src 'none'",
    });
    res.end('Not found.');
    return;
  }
  const submitTo = url.searchParams.get('turkSubmitTo');
  const target = submitTo?.startsWith(`${site}/submit/`) ? `${submitTo}/mturk/externalSubmit` : `${site}/work`;
  const html = q.html.replace(/https:\/\/(?:www|workersandbox)\.mturk\.com\/mturk\/externalSubmit/g, target);
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    // Even opened directly, the page runs as an opaque origin that can read nothing of the site's.
    'content-security-policy': `sandbox allow-scripts allow-forms; frame-ancestors ${site}`,
    'cache-control': 'no-store',
  });
  res.end(html);
}
