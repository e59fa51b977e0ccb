/*
 * Two-pane Chinese → English translation page.
 *
 * Plain ES2017, no build step and no dependencies. Everything lives inside this IIFE so
 * nothing leaks onto `window`. Server and user text only ever reaches the DOM through
 * `textContent`, never through HTML parsing.
 */
(function () {
  'use strict';

  // Matches the server's own upper bound; used only if the template did not provide one.
  const DEFAULT_MAX_CHARS = 5000;
  // Long enough for a slow CPU model on a big input, short enough that a dead
  // connection does not leave the page spinning forever.
  const DEFAULT_TIMEOUT_MS = 60000;
  // If the async Clipboard API neither resolves nor rejects (a permission prompt nobody
  // answers), fall back while the click's user activation is still valid.
  const CLIPBOARD_API_WAIT_MS = 1000;
  const COPIED_FEEDBACK_MS = 2000;

  const OVER_LIMIT_MESSAGE_PREFIX = 'The text is too long';

  let els = null;
  const state = {
    inFlight: null, // {controller, timer, abortReason} while a request is running
    copiedTimer: null,
  };

  // --- Small helpers -----------------------------------------------------------------

  /** Count characters the way the server does: Python's len() counts code points. */
  function countChars(text) {
    return Array.from(text).length;
  }

  function readPositiveInt(value, fallback) {
    const n = parseInt(value, 10);
    return Number.isFinite(n) && n > 0 ? n : fallback;
  }

  function maxChars() {
    return readPositiveInt(els.form.dataset.maxChars, DEFAULT_MAX_CHARS);
  }

  // Read on every request (not once at start-up) so tests can shorten it without waiting
  // a full minute.
  function timeoutMs() {
    return readPositiveInt(els.form.dataset.timeoutMs, DEFAULT_TIMEOUT_MS);
  }

  function endpoint() {
    return els.form.dataset.endpoint || '/translate';
  }

  function setButtonLabel(button, text) {
    button.querySelector('.btn-label').textContent = text;
  }

  // --- Status line (aria-live) -------------------------------------------------------

  function showStatus(message, kind) {
    els.status.textContent = message;
    els.status.classList.toggle('status--error', kind === 'error');
    els.status.classList.toggle('status--ok', kind === 'ok');
  }

  function clearStatus() {
    showStatus('', null);
  }

  // --- Output pane -------------------------------------------------------------------

  function setOutput(text) {
    // textContent: translations may legitimately contain "<b>" or "&amp;"; they are text.
    els.output.textContent = text;
    els.copyBtn.disabled = text === '';
    // A "Copied" badge left over from the previous result would be a lie about this one.
    resetCopiedFeedback();
  }

  // On a phone the panes are stacked, so the answer may be below the fold.
  function revealElement(element) {
    if (typeof element.scrollIntoView === 'function') {
      element.scrollIntoView({ block: 'nearest' });
    }
  }

  // --- Counter and Translate button --------------------------------------------------

  function isOverLimit() {
    return countChars(els.input.value) > maxChars();
  }

  function updateTranslateButton() {
    els.translateBtn.disabled = state.inFlight !== null || isOverLimit();
  }

  function updateCounter() {
    const count = countChars(els.input.value);
    const limit = maxChars();
    const over = count > limit;
    const wasOver = els.counter.classList.contains('counter--over');

    els.counter.textContent = count + ' / ' + limit;
    els.counter.classList.toggle('counter--over', over);
    if (over) {
      els.input.setAttribute('aria-invalid', 'true');
    } else {
      els.input.removeAttribute('aria-invalid');
    }

    // Announce only when crossing the limit, not on every keystroke.
    if (over && !wasOver) {
      showStatus(
        OVER_LIMIT_MESSAGE_PREFIX + ': the limit is ' + limit + ' characters.',
        'error'
      );
    } else if (!over && wasOver && els.status.textContent.indexOf(OVER_LIMIT_MESSAGE_PREFIX) === 0) {
      clearStatus();
    }
    updateTranslateButton();
  }

  // --- Loading state -----------------------------------------------------------------

  function setLoading(loading) {
    els.form.classList.toggle('is-loading', loading);
    els.form.setAttribute('aria-busy', String(loading));
    els.output.setAttribute('aria-busy', String(loading));
    setButtonLabel(els.translateBtn, loading ? 'Translating…' : 'Translate');
    updateTranslateButton();
  }

  // --- Talking to the API ------------------------------------------------------------

  function retryAfterHint(response) {
    const seconds = parseInt(response.headers.get('Retry-After') || '', 10);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      return '';
    }
    return ' You can try again in ' + seconds + (seconds === 1 ? ' second.' : ' seconds.');
  }

  function defaultMessageFor(status) {
    switch (status) {
      case 413:
        return 'The text is too long for the server.';
      case 429:
        return 'Too many requests; please wait a moment and try again.';
      case 503:
        return 'The translation service is busy or starting up; please try again shortly.';
      case 504:
        return 'The translation took too long; try a shorter text.';
      default:
        return 'The translation failed (HTTP ' + status + ').';
    }
  }

  function unexpectedResponseMessage(status) {
    return 'The server returned an unexpected response (HTTP ' + status + ').';
  }

  function parseJsonOrNull(raw) {
    try {
      return JSON.parse(raw);
    } catch (err) {
      return null;
    }
  }

  /**
   * Turn any HTTP response into {ok, text} or {ok: false, message}. Reads the body as text
   * first because a proxy in front of us may answer with an HTML error page.
   */
  async function interpretResponse(response) {
    const body = parseJsonOrNull(await response.text());
    const isObject = body !== null && typeof body === 'object';

    if (response.ok && isObject && body.success === true && typeof body.result === 'string') {
      return { ok: true, text: body.result };
    }
    if (!isObject || (response.ok && body.success !== false)) {
      return { ok: false, message: unexpectedResponseMessage(response.status) };
    }

    const error = body.error;
    const message =
      error && typeof error === 'object' && typeof error.message === 'string' && error.message
        ? error.message
        : defaultMessageFor(response.status);
    return { ok: false, message: message + retryAfterHint(response) };
  }

  function startRequest() {
    const request = { controller: new AbortController(), timer: null, abortReason: null };
    request.timer = setTimeout(function () {
      request.abortReason = 'timeout';
      request.controller.abort();
    }, timeoutMs());
    state.inFlight = request;
    return request;
  }

  function finishRequest(request) {
    clearTimeout(request.timer);
    if (state.inFlight === request) {
      state.inFlight = null;
    }
  }

  function cancelInFlight() {
    if (state.inFlight) {
      state.inFlight.abortReason = 'cancelled';
      state.inFlight.controller.abort();
    }
  }

  function failureMessage(request, err) {
    if (request.abortReason === 'timeout') {
      return (
        'The request timed out after ' +
        Math.round(timeoutMs() / 1000) +
        ' seconds. Please try again, perhaps with a shorter text.'
      );
    }
    // fetch() only rejects on network-level failures (offline, DNS, connection reset).
    if (err && err.name === 'TypeError') {
      return 'Network error: could not reach the server.';
    }
    return 'The request failed: ' + (err && err.message ? err.message : 'unknown error') + '.';
  }

  async function translate() {
    // Guard here as well as via `disabled`: keyboard shortcuts bypass the button.
    if (state.inFlight !== null || isOverLimit()) {
      return;
    }
    const text = els.input.value;
    if (text.trim() === '') {
      // The server would answer "" anyway; skip the round trip.
      setOutput('');
      clearStatus();
      return;
    }

    const request = startRequest();
    setLoading(true);
    showStatus('Translating…', null);

    let outcome;
    try {
      const response = await fetch(endpoint(), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ text: text }),
        signal: request.controller.signal,
        credentials: 'same-origin',
        cache: 'no-store',
      });
      outcome = await interpretResponse(response);
    } catch (err) {
      outcome = { ok: false, message: failureMessage(request, err) };
    } finally {
      finishRequest(request);
    }

    // A cancelled request (Clear) must not repaint panes the user just emptied.
    if (request.abortReason === 'cancelled') {
      return;
    }
    setLoading(false);
    if (outcome.ok) {
      setOutput(outcome.text);
      clearStatus();
      revealElement(els.output);
    } else {
      // Stale output next to a new input would look like its translation.
      setOutput('');
      showStatus(outcome.message, 'error');
      revealElement(els.status);
    }
  }

  // --- Copy --------------------------------------------------------------------------

  function copyWithExecCommand(text) {
    const scratch = document.createElement('textarea');
    scratch.value = text;
    scratch.setAttribute('readonly', ''); // keeps mobile keyboards from popping up
    scratch.setAttribute('aria-hidden', 'true');
    scratch.className = 'copy-scratch';
    document.body.appendChild(scratch);
    let ok = false;
    try {
      scratch.select();
      scratch.setSelectionRange(0, scratch.value.length);
      ok = document.execCommand('copy');
    } catch (err) {
      ok = false;
    } finally {
      document.body.removeChild(scratch);
    }
    return ok;
  }

  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      const timer = setTimeout(function () {
        reject(new Error('timed out'));
      }, ms);
      promise.then(
        function (value) {
          clearTimeout(timer);
          resolve(value);
        },
        function (err) {
          clearTimeout(timer);
          reject(err);
        }
      );
    });
  }

  async function copyText(text) {
    if (navigator.clipboard && typeof navigator.clipboard.writeText === 'function') {
      try {
        await withTimeout(navigator.clipboard.writeText(text), CLIPBOARD_API_WAIT_MS);
        return true;
      } catch (err) {
        // Permission denied, insecure context or unfocused document: try the old way.
      }
    }
    return copyWithExecCommand(text);
  }

  function resetCopiedFeedback() {
    clearTimeout(state.copiedTimer);
    state.copiedTimer = null;
    setButtonLabel(els.copyBtn, 'Copy');
    els.copyBtn.classList.remove('btn--done');
  }

  function showCopiedFeedback() {
    clearTimeout(state.copiedTimer);
    setButtonLabel(els.copyBtn, 'Copied');
    els.copyBtn.classList.add('btn--done');
    showStatus('Copied to clipboard.', 'ok');
    state.copiedTimer = setTimeout(resetCopiedFeedback, COPIED_FEEDBACK_MS);
  }

  async function onCopy() {
    const text = els.output.textContent;
    if (text === '') {
      showStatus('Nothing to copy yet.', null);
      return;
    }
    const copied = await copyText(text);
    // The scratch textarea stole focus; give it back so keyboard users stay in place.
    els.copyBtn.focus();
    if (copied) {
      showCopiedFeedback();
    } else {
      showStatus('Could not copy automatically; select the translation and press Ctrl+C.', 'error');
    }
  }

  // --- Clear -------------------------------------------------------------------------

  function onClear() {
    cancelInFlight();
    state.inFlight = null;
    setLoading(false);
    els.input.value = '';
    setOutput('');
    clearStatus();
    updateCounter();
    els.input.focus();
  }

  // --- Wiring ------------------------------------------------------------------------

  function onSubmit(event) {
    event.preventDefault();
    translate();
  }

  function onInputKeydown(event) {
    // keyCode 229 / isComposing: the Enter that confirms an IME (pinyin) candidate.
    if (event.isComposing || event.keyCode === 229) {
      return;
    }
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      translate();
    }
  }

  function findElements() {
    return {
      form: document.getElementById('translator'),
      input: document.getElementById('source-text'),
      output: document.getElementById('target-text'),
      counter: document.getElementById('char-counter'),
      status: document.getElementById('status'),
      translateBtn: document.getElementById('translate-btn'),
      copyBtn: document.getElementById('copy-btn'),
      clearBtn: document.getElementById('clear-btn'),
    };
  }

  function init() {
    els = findElements();
    if (!els.form || !els.input || !els.output) {
      return; // not the translator page
    }
    els.form.addEventListener('submit', onSubmit);
    els.input.addEventListener('input', updateCounter);
    els.input.addEventListener('keydown', onInputKeydown);
    els.copyBtn.addEventListener('click', onCopy);
    els.clearBtn.addEventListener('click', onClear);
    // The browser may restore a previous textarea value on back/forward navigation.
    updateCounter();
    setOutput(els.output.textContent);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
