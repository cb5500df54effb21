/**
 * The browser side of the task server: `wrapper.js`, served at `<prefix>/wrapper.js` and
 * injected first in every task page's `<head>`. Plain ES2019, no framework, no build step.
 *
 * Worker-facing API (`window.hitstate`):
 * - `isPreview: boolean` — true in MTurk's preview (`assignmentId` missing or
 *   `ASSIGNMENT_ID_NOT_AVAILABLE`, or no `workerId`); nothing is registered then.
 * - `getTask(): Promise<{ data, agentId, unitId, isPreview, submitted }>` — the unit's task data
 *   (in preview: the HIT's public preview data, ids null).
 * - `submit(data): Promise<void>` — stores `data` (any JSON value) on the task server first;
 *   only once that succeeded, posts it to `turkSubmitTo + /mturk/externalSubmit` as one form
 *   field `hitstate_submission` (JSON) plus `assignmentId`, in this frame. If storing fails the
 *   worker is told, nothing goes to MTurk, and `submit` may be called again.
 * - `onStatus(fn): () => void` — `fn({ phase, agentStatus?, error? })` now and on every change;
 *   phases: `preview`, `registering`, `ready`, `submitting`, `submitted`, `error`.
 *
 * Kept as a string (not a .js file) so the compiled package carries it without a copy step:
 * it contains no backticks, and `${...}` only inserts the constants shared with the server.
 *
 * @module
 */
import { PREVIEW_ASSIGNMENT_ID } from './agent-routes.js';

/**
 * Name of the one form field that carries the submission (JSON) to MTurk's externalSubmit; the
 * MTurk gateway parses the answer XML back by this name.
 */
export const SUBMISSION_FIELD = 'hitstate_submission';

/** The wrapper script's source. */
export const WRAPPER_SOURCE = String.raw`/* hitstate task wrapper (MIT) */
(function () {
  'use strict';
  if (window.hitstate) return;

  var PREVIEW_ASSIGNMENT = '${PREVIEW_ASSIGNMENT_ID}';
  var SUBMISSION_FIELD = '${SUBMISSION_FIELD}';
  var script = document.currentScript;
  var api = (script && script.getAttribute('data-hitstate-api')) || '/hitstate/api';
  // Where MTurk's externalSubmit may be: MTurk's origins and the run's endpoint, as the server lists them.
  var submitOrigins = ((script && script.getAttribute('data-hitstate-submit-origins')) ||
    'https://www.mturk.com https://workersandbox.mturk.com').split(' ').filter(Boolean);

  var params = new URLSearchParams(window.location.search);
  function param(name) {
    var value = params.get(name);
    return value === null || value === '' ? null : value;
  }
  var ids = {
    assignmentId: param('assignmentId'),
    hitId: param('hitId'),
    workerId: param('workerId'),
    turkSubmitTo: param('turkSubmitTo')
  };
  var isPreview = ids.assignmentId === null || ids.assignmentId === PREVIEW_ASSIGNMENT || ids.workerId === null;

  var status = { phase: isPreview ? 'preview' : 'registering' };
  var listeners = [];
  var registration = null;
  var registering = null;
  var taskPromise = null;
  var submitting = false;
  var finished = false;
  var heartbeatTimer = null;

  function setStatus(next) {
    status = Object.assign({}, status, next);
    listeners.slice().forEach(function (fn) {
      try {
        fn(status);
      } catch (err) {
        console.error('hitstate: an onStatus listener threw', err);
      }
    });
  }

  function whenBody(fn) {
    if (document.body) fn();
    else document.addEventListener('DOMContentLoaded', fn, { once: true });
  }

  function notify(text, isError) {
    whenBody(function () {
      var box = document.getElementById('hitstate-status');
      if (!box) {
        box = document.createElement('div');
        box.id = 'hitstate-status';
        box.setAttribute('role', isError ? 'alert' : 'status');
        box.style.cssText = 'margin:0 0 1rem;padding:.75rem 1rem;border-radius:.4rem;font:15px/1.4 system-ui,sans-serif';
        document.body.insertBefore(box, document.body.firstChild);
      }
      box.style.background = isError ? '#fbeeee' : '#eef3fb';
      box.className = isError ? 'hitstate-status hitstate-status-error' : 'hitstate-status';
      box.textContent = text;
    });
  }

  function ClientError(code, message, httpStatus) {
    var err = new Error(message);
    err.name = 'HitstateClientError';
    err.code = code;
    err.status = httpStatus;
    return err;
  }

  async function call(method, path, body, token) {
    var headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = 'Bearer ' + token;
    var response;
    try {
      response = await fetch(api + path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store'
      });
    } catch (err) {
      throw ClientError('NETWORK', 'the task server could not be reached (' + (err && err.message) + ')', 0);
    }
    var payload = null;
    try {
      payload = await response.json();
    } catch (err) {
      payload = null;
    }
    if (!response.ok) {
      var e = payload && payload.error ? payload.error : { code: 'HTTP_' + response.status, message: 'HTTP ' + response.status };
      var failure = ClientError(e.code, e.message, response.status);
      failure.retryAfterSec = Number(response.headers.get('Retry-After')) || 0;
      throw failure;
    }
    return payload;
  }

  function agentPath(suffix) {
    return '/agents/' + encodeURIComponent(registration.agentId) + suffix;
  }

  // Registers; a refusal to retry later (429, or 503 while MTurk cannot confirm the assignment) is
  // retried after Retry-After, a few times, telling the worker to keep the HIT.
  function registerWithRetry(attempt) {
    return call('POST', '/agents', { hitId: ids.hitId, assignmentId: ids.assignmentId, workerId: ids.workerId }).catch(
      function (err) {
        if (!err.retryAfterSec || attempt >= 5) throw err;
        notify('Waiting for Mechanical Turk to confirm your assignment; keep the HIT (retrying in ' + err.retryAfterSec + ' s)...', false);
        return new Promise(function (resolve) {
          setTimeout(resolve, err.retryAfterSec * 1000);
        }).then(function () {
          return registerWithRetry(attempt + 1);
        });
      }
    );
  }

  function register() {
    if (!registering) {
      registering = registerWithRetry(1).then(
        function (reg) {
          registration = reg;
          registering = null;
          return reg;
        },
        function (err) {
          registering = null;
          throw err;
        }
      );
    }
    return registering;
  }

  // Calls an agent route; an expired or unknown token is renewed once by registering again.
  async function agentCall(method, suffix, body) {
    try {
      return await call(method, agentPath(suffix), body, registration.token);
    } catch (err) {
      if (err.code !== 'HST_ERR_SERVER_TOKEN_INVALID') throw err;
      await register();
      return call(method, agentPath(suffix), body, registration.token);
    }
  }

  function startHeartbeat() {
    stopHeartbeat();
    var everyMs = Math.max(1, Number(registration.heartbeatIntervalSec) || 20) * 1000;
    heartbeatTimer = setInterval(function () {
      agentCall('POST', '/heartbeat', {}).then(
        function (view) {
          if (view.status !== status.agentStatus) setStatus({ agentStatus: view.status });
        },
        function (err) {
          console.warn('hitstate: heartbeat failed', err);
        }
      );
    }, everyMs);
  }

  function stopHeartbeat() {
    if (heartbeatTimer !== null) clearInterval(heartbeatTimer);
    heartbeatTimer = null;
  }

  // The externalSubmit URL, or null when turkSubmitTo is absent, not a web address, or not an
  // allowed origin (a page opened with another turkSubmitTo must not send the work elsewhere).
  function submitUrl() {
    if (ids.turkSubmitTo === null) return null;
    var base;
    try {
      base = new URL(ids.turkSubmitTo);
    } catch (err) {
      return null;
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') return null;
    if (submitOrigins.indexOf(base.origin) < 0) return null;
    return base.origin + base.pathname.replace(/\/+$/, '') + '/mturk/externalSubmit';
  }

  function hiddenInput(name, value) {
    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    return input;
  }

  // Posts the stored submission to MTurk in this frame. The prototype's submit() is used so a
  // task field named "submit" cannot shadow it.
  function postToMTurk(serialized) {
    finished = true;
    stopHeartbeat();
    var action = submitUrl();
    if (action === null) {
      setStatus({ phase: 'submitted' });
      notify(ids.turkSubmitTo === null
        ? 'Your work is saved. You can close this page.'
        : 'Your work is saved, but this page was opened with a submit address (turkSubmitTo) that is not Mechanical Turk\'s, so it was not sent there. Open the HIT again from Mechanical Turk to finish.', ids.turkSubmitTo !== null);
      return;
    }
    setStatus({ phase: 'submitted' });
    whenBody(function () {
      var form = document.createElement('form');
      form.method = 'POST';
      form.action = action;
      form.target = '_self';
      form.style.display = 'none';
      form.appendChild(hiddenInput('assignmentId', ids.assignmentId));
      form.appendChild(hiddenInput(SUBMISSION_FIELD, serialized));
      document.body.appendChild(form);
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  function loadTask() {
    if (isPreview) {
      var query = ids.hitId === null ? '' : '?hitId=' + encodeURIComponent(ids.hitId);
      return call('GET', '/preview' + query).then(function (info) {
        return { data: info.data === undefined ? null : info.data, agentId: null, unitId: null, isPreview: true, submitted: false };
      });
    }
    return register().then(
      function (reg) {
        var task = { data: reg.task, agentId: reg.agentId, unitId: reg.unitId, isPreview: false, submitted: reg.submitted };
        setStatus({ phase: reg.submitted ? 'submitted' : 'ready', agentStatus: reg.status });
        if (reg.submitted && reg.submission !== undefined) {
          notify('Your work was already saved. Finishing the submission on Mechanical Turk...', false);
          postToMTurk(JSON.stringify(reg.submission));
        } else if (reg.submitted) {
          finished = true;
          notify('Your work was already submitted. You can close this page.', false);
        } else {
          startHeartbeat();
        }
        return task;
      },
      function (err) {
        setStatus({ phase: 'error', error: err });
        notify('This task could not be started: ' + err.message, true);
        throw err;
      }
    );
  }

  function getTask() {
    if (!taskPromise) {
      taskPromise = loadTask();
      taskPromise.catch(function () {
        taskPromise = null;
      });
    }
    return taskPromise;
  }

  async function submit(data) {
    if (isPreview) throw ClientError('PREVIEW', 'this is a preview: accept the HIT before submitting', 0);
    if (finished) throw ClientError('HST_ERR_SERVER_ALREADY_SUBMITTED', 'this work is already submitted', 409);
    if (submitting) throw ClientError('BUSY', 'a submission is already in progress', 0);
    var serialized = JSON.stringify(data);
    if (serialized === undefined) throw ClientError('INVALID', 'submit() needs a JSON value (an object, array, string, number, boolean or null)', 0);
    submitting = true;
    try {
      await getTask();
    } finally {
      submitting = false;
    }
    if (finished) throw ClientError('HST_ERR_SERVER_ALREADY_SUBMITTED', 'this work is already submitted', 409);
    submitting = true;
    setStatus({ phase: 'submitting', error: undefined });
    try {
      try {
        await agentCall('POST', '/submit', { data: JSON.parse(serialized) });
      } catch (err) {
        if (err.code !== 'HST_ERR_SERVER_ALREADY_SUBMITTED') throw err;
        // Stored by an earlier attempt whose answer was lost: send MTurk exactly what is stored.
        var reg = await register();
        if (reg.submission !== undefined) serialized = JSON.stringify(reg.submission);
      }
    } catch (err) {
      submitting = false;
      setStatus({ phase: 'error', error: err });
      notify('Your work could not be saved: ' + err.message + '. Nothing was sent to Mechanical Turk; please try submitting again.', true);
      throw err;
    }
    submitting = false;
    postToMTurk(serialized);
  }

  function onStatus(fn) {
    listeners.push(fn);
    fn(status);
    return function () {
      listeners = listeners.filter(function (other) {
        return other !== fn;
      });
    };
  }

  window.addEventListener('pagehide', function () {
    stopHeartbeat();
    if (!registration || finished || !navigator.sendBeacon) return;
    var body = new Blob([JSON.stringify({ token: registration.token })], { type: 'text/plain;charset=UTF-8' });
    navigator.sendBeacon(api + agentPath('/disconnect'), body);
  });
  window.addEventListener('pageshow', function (event) {
    // Back from the back-forward cache: the disconnect beacon went out, so register again.
    if (event.persisted && registration && !finished) register().then(startHeartbeat, function (err) {
      console.warn('hitstate: registering again failed', err);
    });
  });

  window.hitstate = Object.freeze({ isPreview: isPreview, getTask: getTask, submit: submit, onStatus: onStatus });
  if (!isPreview) getTask().catch(function () {});
})();
`;
