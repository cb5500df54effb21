/**
 * The worker side in a browser: server-rendered HTML pages where anyone can play a worker.
 * Worker identity is the `workerId` query parameter (a simulated login).
 *
 * - `GET /mturk?workerId=W`: the HIT groups with work available.
 * - `GET /mturk/preview?groupId=HITTypeId|HITGroupId[&hitId=][&workerId=W]`: the HIT, its task in an iframe
 *   in preview mode (`assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE`) and an Accept button.
 * - `POST /mturk/accept` (form `hitId` or `groupId`, `workerId`): creates the assignment and
 *   redirects to the task page.
 * - `GET /mturk/task?assignmentId=A`: the task iframe (`ExternalURL` + `assignmentId`, `hitId`,
 *   `workerId`, `turkSubmitTo`) and a Return button (`POST /mturk/return`).
 * - `POST /mturk/externalSubmit`: the form the task posts; stores the answer.
 * - `GET /mturk/question/{hitId}`: HTMLQuestion and QuestionForm content, served from here.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HitstateError, isHitstateError } from '../errors.js';
import type { SimulatorHost } from './host.js';
import { escapeHtml, hidden, page } from './html.js';
import { readBody, redirect, sendHtml } from './http-util.js';
import { hitTypeIdOfGroupId } from './ids.js';
import type { Engine } from './engine.js';
import type { HitRecord } from './model.js';
import { parseQuestion, type ParsedQuestion } from './question.js';
import { describeRequirement } from './qualifications.js';
import { PREVIEW_ASSIGNMENT_ID, accept, checkWorkerId, refusal, returnAssignment, submit } from './worker-actions.js';

/** A page telling the worker what went wrong. */
export function errorPage(title: string, message: string, workerId?: string): string {
  return page(
    title,
    `<div class="card error"><h2>${escapeHtml(title)}</h2><p>${escapeHtml(message)}</p></div>`,
    workerId,
  );
}

/** Appends the frame parameters to a task URL, keeping its own query string (and fragment) as it is. */
export function frameUrl(base: string, params: Record<string, string | undefined>): string {
  const hash = base.indexOf('#');
  const head = hash < 0 ? base : base.slice(0, hash);
  const tail = hash < 0 ? '' : base.slice(hash);
  const query = Object.entries(params)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return `${head}${head.includes('?') ? '&' : '?'}${query}${tail}`;
}

function taskSource(
  host: SimulatorHost,
  hit: HitRecord,
  params: Record<string, string | undefined>,
): { src: string; height: string } {
  const q = parseQuestion(hit.question);
  const height = q.kind !== 'QuestionForm' && q.frameHeight > 0 ? `${q.frameHeight}px` : '80vh';
  const src = q.kind === 'ExternalQuestion' ? q.externalUrl : `${host.url}/mturk/question/${hit.hitId}`;
  return { src: frameUrl(src, params), height };
}

const workerOf = (url: URL): string | undefined => {
  const w = url.searchParams.get('workerId');
  return w === null || w === '' ? undefined : checkWorkerId(w);
};

function hitSummary(host: SimulatorHost, hit: HitRecord): string {
  const type = host.engine.type(hit);
  const reqs = type.qualificationRequirements
    .map((r) => `<li>${escapeHtml(describeRequirement(host.engine.state, r))}</li>`)
    .join('');
  return `<h2>${escapeHtml(type.title)}</h2><p>${escapeHtml(type.description)}</p>
<table><tr><th>Reward</th><td>$${escapeHtml(type.reward)}</td></tr>
<tr><th>Time allotted</th><td>${escapeHtml(Math.round(type.assignmentDurationSec / 60))} min</td></tr>
<tr><th>HIT</th><td>${escapeHtml(hit.hitId)} (${escapeHtml(hit.status)}, ${escapeHtml(Math.max(0, host.engine.available(hit)))} available)</td></tr>
<tr><th>Expires</th><td>${escapeHtml(new Date(hit.expirationMs).toISOString())}</td></tr></table>
${reqs ? `<p>Qualifications required:</p><ul>${reqs}</ul>` : ''}`;
}

const loginForm = (url: URL): string => {
  const keep = [...url.searchParams.entries()]
    .filter(([k]) => k !== 'workerId')
    .map(([k, v]) => hidden(k, v))
    .join('');
  return `<form method="get" action="${escapeHtml(url.pathname)}">${keep}<label>Worker id <input name="workerId" placeholder="A1EXAMPLEWORKER" pattern="A[A-Z0-9]+" required></label> <button>Sign in</button></form>`;
};

function indexPage(host: SimulatorHost, url: URL): string {
  const workerId = workerOf(url);
  const { engine } = host;
  const rows: string[] = [];
  for (const type of engine.state.hitTypes.values()) {
    const assignable = engine.state.assignableHitsOf(type.hitTypeId);
    const first = assignable.values().next();
    if (first.done) continue;
    if (workerId && refusal(engine, workerId, first.value, 'discover')) continue;
    const link = `/mturk/preview?groupId=${encodeURIComponent(type.hitTypeId)}${workerId ? `&workerId=${encodeURIComponent(workerId)}` : ''}`;
    rows.push(
      `<tr><td><a href="${escapeHtml(link)}">${escapeHtml(type.title)}</a></td><td>$${escapeHtml(type.reward)}</td><td>${assignable.size}</td><td>${escapeHtml(engine.state.accounts.get(type.account)?.customerId ?? '')}</td></tr>`,
    );
  }
  const list = rows.length
    ? `<table><tr><th>HIT group</th><th>Reward</th><th>HITs</th><th>Requester</th></tr>${rows.join('')}</table>`
    : '<p class="muted">No HITs are available right now.</p>';
  return page(
    'HITs',
    `<div class="card">${workerId ? '' : loginForm(url)}</div><div class="card"><h2>Available HITs</h2>${list}</div>`,
    workerId,
  );
}

/**
 * The HIT type a `groupId` names: a HIT type id, as Mephisto's and hitstate's preview links carry,
 * or the HIT's `HITGroupId`, as scripts that print `preview?groupId=` + HITGroupId do.
 */
function hitTypeOfGroup(engine: Engine, groupId: string | undefined): string | undefined {
  if (!groupId) return groupId;
  if (engine.state.hitTypes.has(groupId)) return groupId;
  const typeId = hitTypeIdOfGroupId(groupId);
  return engine.state.hitTypes.has(typeId) ? typeId : groupId;
}

function previewPage(host: SimulatorHost, url: URL): { status: number; html: string } {
  const workerId = workerOf(url);
  const { engine } = host;
  const groupId = hitTypeOfGroup(engine, url.searchParams.get('groupId') ?? undefined);
  const hitIdParam = url.searchParams.get('hitId') ?? undefined;
  let hit: HitRecord | undefined;
  if (hitIdParam) hit = engine.state.hits.get(hitIdParam);
  else if (groupId && engine.state.hitTypes.has(groupId)) {
    for (const h of engine.state.assignableHitsOf(groupId).values()) {
      if (!workerId || !engine.state.heldBy(h.hitId, workerId)) {
        hit = h;
        break;
      }
    }
    if (!hit)
      return {
        status: 200,
        html: page(
          'No HITs',
          `<div class="card"><h2>No HITs available</h2><p>There are no more HITs in group ${escapeHtml(groupId)} that you can accept.</p></div>`,
          workerId,
        ),
      };
  }
  if (!hit || hit.disposed)
    return {
      status: 404,
      html: errorPage('HIT not found', `No HIT matches groupId=${groupId ?? ''} hitId=${hitIdParam ?? ''}.`, workerId),
    };
  const parts = [`<div class="card">${hitSummary(host, hit)}`];
  const held = workerId ? engine.state.heldBy(hit.hitId, workerId) : undefined;
  if (!workerId) parts.push(`<p>Sign in as a worker to accept this HIT.</p>${loginForm(url)}`);
  else if (held?.status === 'Accepted')
    parts.push(
      `<p><a href="/mturk/task?assignmentId=${escapeHtml(encodeURIComponent(held.assignmentId))}">Continue working on your accepted assignment</a></p>`,
    );
  else {
    const blocked = refusal(engine, workerId, hit, 'accept');
    if (blocked) parts.push(`<p class="muted">${escapeHtml(blocked.message)}</p>`);
    else if (hit.status !== 'Assignable' || held)
      parts.push(
        `<p class="muted">This HIT cannot be accepted: ${held ? 'you already worked on it' : `it is ${escapeHtml(hit.status)}`}.</p>`,
      );
    else
      parts.push(
        `<form method="post" action="/mturk/accept">${hidden('hitId', hit.hitId)}${hidden('workerId', workerId)}<button class="primary">Accept</button></form>`,
      );
  }
  parts.push('</div>');
  const previewRefused = workerId ? refusal(engine, workerId, hit, 'preview') : undefined;
  if (previewRefused)
    parts.push(`<div class="card"><p>You cannot preview this HIT: ${escapeHtml(previewRefused.message)}</p></div>`);
  else {
    const frame = taskSource(host, hit, {
      assignmentId: PREVIEW_ASSIGNMENT_ID,
      hitId: hit.hitId,
      workerId,
      turkSubmitTo: host.url,
    });
    parts.push(
      `<iframe id="task" title="task preview" src="${escapeHtml(frame.src)}" style="height:${escapeHtml(frame.height)}"></iframe>`,
    );
  }
  return { status: 200, html: page(`Preview: ${engine.type(hit).title}`, parts.join(''), workerId) };
}

function taskPage(host: SimulatorHost, url: URL): { status: number; html: string } {
  const { engine } = host;
  engine.processDue();
  const assignmentId = url.searchParams.get('assignmentId') ?? '';
  const a = engine.state.assignments.get(assignmentId);
  if (!a) return { status: 404, html: errorPage('Assignment not found', `Assignment ${assignmentId} does not exist.`) };
  const hit = engine.state.hits.get(a.hitId)!;
  const summary = `<div class="card">${hitSummary(host, hit)}`;
  if (a.status !== 'Accepted') {
    return {
      status: 200,
      html: page(
        'Assignment',
        `${summary}<p>This assignment is ${escapeHtml(a.status)}; there is nothing more to do on it.</p></div>`,
        a.workerId,
      ),
    };
  }
  const frame = taskSource(host, hit, {
    assignmentId: a.assignmentId,
    hitId: hit.hitId,
    workerId: a.workerId,
    turkSubmitTo: host.url,
  });
  const body = `${summary}<p>Assignment ${escapeHtml(a.assignmentId)}: submit before ${escapeHtml(new Date(a.deadlineMs).toISOString())}.</p>
<form class="inline" method="post" action="/mturk/return">${hidden('assignmentId', a.assignmentId)}<button>Return HIT</button></form></div>
<iframe id="task" title="task" src="${escapeHtml(frame.src)}" style="height:${escapeHtml(frame.height)}"></iframe>`;
  return { status: 200, html: page(`Task: ${engine.type(hit).title}`, body, a.workerId) };
}

const SUBMIT_URLS = /https:\/\/(?:www|workersandbox)\.mturk\.com\/mturk\/externalSubmit/g;

function questionPage(host: SimulatorHost, url: URL, hitId: string): { status: number; html: string } {
  const hit = host.engine.state.hits.get(hitId);
  if (!hit) return { status: 404, html: errorPage('HIT not found', `HIT ${hitId} does not exist.`) };
  const q: ParsedQuestion = parseQuestion(hit.question);
  // Task HTML written for MTurk posts to MTurk's own externalSubmit; point it at the simulator.
  if (q.kind === 'HTMLQuestion')
    return { status: 200, html: q.html.replace(SUBMIT_URLS, `${host.url}/mturk/externalSubmit`) };
  if (q.kind === 'ExternalQuestion')
    return {
      status: 200,
      html: page(
        'External task',
        `<p>This HIT shows <a href="${escapeHtml(q.externalUrl)}">${escapeHtml(q.externalUrl)}</a>.</p>`,
      ),
    };
  const assignmentId = url.searchParams.get('assignmentId') ?? PREVIEW_ASSIGNMENT_ID;
  const preview = assignmentId === PREVIEW_ASSIGNMENT_ID;
  const fields = q.questions
    .map(
      (x) =>
        `<p><label>${escapeHtml(x.text)}<br><textarea name="${escapeHtml(x.identifier)}" rows="3" cols="60"></textarea></label></p>`,
    )
    .join('');
  const body = `<form method="post" action="${escapeHtml(host.url)}/mturk/externalSubmit">${hidden('assignmentId', assignmentId)}${fields}<button class="primary"${preview ? ' disabled' : ''}>Submit</button>${preview ? ' <span class="muted">Accept the HIT to submit.</span>' : ''}</form>`;
  return { status: 200, html: page('Question', `<div class="card">${body}</div>`) };
}

async function formFields(host: SimulatorHost, req: IncomingMessage): Promise<[string, string][]> {
  const raw = await readBody(req, host.maxBodyBytes);
  const type = req.headers['content-type'] ?? 'application/x-www-form-urlencoded';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) {
    throw new HitstateError(
      'HST_ERR_SIM_BAD_REQUEST',
      `A form post needs Content-Type application/x-www-form-urlencoded or multipart/form-data, got ${type}.`,
    );
  }
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(raw), { headers: { 'content-type': type } }).formData();
  } catch (err) {
    throw new HitstateError(
      'HST_ERR_SIM_BAD_REQUEST',
      `The form body cannot be parsed: ${err instanceof Error ? err.message : String(err)}.`,
    );
  }
  return [...form.entries()].map(([k, v]) => [k, typeof v === 'string' ? v : v.name]);
}

function submittedPage(workerId: string, assignmentId: string): string {
  const home = `/mturk?workerId=${encodeURIComponent(workerId)}`;
  return page(
    'Submitted',
    `<div class="card"><h2>HIT submitted</h2><p>Assignment ${escapeHtml(assignmentId)} was submitted. Thank you.</p><p><a href="${escapeHtml(home)}" target="_top">Find more HITs</a></p></div>`,
    workerId,
  );
}

async function route(host: SimulatorHost, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? 'GET';
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const { engine } = host;
  if (method === 'GET' && (path === '/' || path === '/mturk')) return sendHtml(res, 200, indexPage(host, url));
  if (method === 'GET' && path === '/mturk/preview') {
    const r = previewPage(host, url);
    return sendHtml(res, r.status, r.html);
  }
  if (method === 'GET' && path === '/mturk/task') {
    const r = taskPage(host, url);
    return sendHtml(res, r.status, r.html);
  }
  const question = /^\/mturk\/question\/([A-Z0-9]+)$/.exec(path);
  if (method === 'GET' && question) {
    const r = questionPage(host, url, question[1]!);
    return sendHtml(res, r.status, r.html);
  }
  if (method === 'POST' && path === '/mturk/accept') {
    const form = new Map(await formFields(host, req));
    const hitId = form.get('hitId');
    const groupId = hitTypeOfGroup(engine, form.get('groupId'));
    if (!hitId && !groupId)
      throw new HitstateError('HST_ERR_SIM_BAD_REQUEST', 'The accept form needs hitId or groupId.');
    const a = accept(engine, form.get('workerId'), hitId ? { hitId } : { hitTypeId: groupId! });
    return redirect(
      res,
      `/mturk/task?assignmentId=${encodeURIComponent(a.assignmentId)}&workerId=${encodeURIComponent(a.workerId)}`,
    );
  }
  if (method === 'POST' && path === '/mturk/return') {
    const form = new Map(await formFields(host, req));
    const a = returnAssignment(engine, form.get('assignmentId'));
    const hit = engine.state.hits.get(a.hitId)!;
    return redirect(
      res,
      `/mturk/preview?groupId=${encodeURIComponent(hit.hitTypeId)}&workerId=${encodeURIComponent(a.workerId)}`,
    );
  }
  if (method === 'POST' && path === '/mturk/externalSubmit') {
    const fields = await formFields(host, req);
    const assignmentId = fields.find(([k]) => k === 'assignmentId')?.[1];
    if (assignmentId === undefined || assignmentId === '') {
      throw new HitstateError(
        'HST_ERR_SIM_BAD_REQUEST',
        'The submitted form must contain an assignmentId field holding the assignmentId the task page received.',
        { field: 'assignmentId' },
      );
    }
    const a = submit(engine, assignmentId, fields);
    return sendHtml(res, 200, submittedPage(a.workerId, a.assignmentId));
  }
  throw new HitstateError(
    'HST_ERR_SIM_NOT_FOUND',
    `There is no page ${method} ${url.pathname} on the simulator. Start at /mturk.`,
  );
}

/** Serves a worker page, answering refusals and bad input with an HTML error page of the code's status. */
export async function handleWorkerPage(
  host: SimulatorHost,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  try {
    await route(host, req, res, url);
  } catch (err) {
    if (!isHitstateError(err)) throw err;
    const titles: Record<string, string> = {
      HST_ERR_SIM_NOT_FOUND: 'Not found',
      HST_ERR_SIM_WORKER_NOT_ALLOWED: 'Not allowed',
      HST_ERR_SIM_HIT_UNAVAILABLE: 'HIT not available',
      HST_ERR_SIM_ASSIGNMENT_STATE: 'Cannot do that now',
    };
    sendHtml(res, err.httpStatus, errorPage(titles[err.code] ?? 'Bad request', err.message, err.details.workerId));
  }
}
