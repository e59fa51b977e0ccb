/*
 * Two-pane translation page, part 1 of 3: the translate pane and its requests.
 *
 * Plain ES2017, no build step and no dependencies. The page's scripts (this one,
 * direction.js, then controls.js, all `defer`) share one object, `window.translatorPage`:
 * its `els` (the elements, filled in by controls.js at start-up), its `state`, and the
 * functions one script calls in another. Nothing else leaks onto `window`. Server and
 * user text only ever reaches the DOM through `textContent`, never through HTML parsing.
 *
 * Translate as you type: every input change cancels the request in flight (its answer
 * would be stale), marks the translation shown as outdated and, once typing has paused
 * for `data-debounce-ms` (500 ms), sends the text. The Translate button and Ctrl+Enter
 * send at once. The glossary field (controls.js) goes with each request as the native
 * API's `glossary` object.
 */
(function () {
  'use strict';

  // Matches the server's own upper bound; used only if the template did not provide one.
  const DEFAULT_MAX_CHARS = 5000;
  // Long enough for a slow CPU model on a big input, short enough that a dead
  // connection does not leave the page spinning forever.
  const DEFAULT_TIMEOUT_MS = 60000;
  const DEFAULT_DEBOUNCE_MS = 500;

  const OVER_LIMIT_MESSAGE_PREFIX = 'The text is too long';

  const page = (window.translatorPage = {
    els: {}, // the page's elements, filled in by controls.js at start-up
    state: {
      inFlight: null, // {controller, timer, abortReason} while a request is running
      detecting: null, // the AbortController of the detection in flight
      debounceTimer: null,
      copiedTimer: null,
    },
  });
  const els = page.els;
  const state = page.state;

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

  // Read on every request (not once at start-up) so tests can change them.
  function timeoutMs() {
    return readPositiveInt(els.form.dataset.timeoutMs, DEFAULT_TIMEOUT_MS);
  }

  function debounceMs() {
    return readPositiveInt(els.form.dataset.debounceMs, DEFAULT_DEBOUNCE_MS);
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

  function markStale(stale) {
    const on = stale && els.output.textContent !== '';
    els.output.classList.toggle('output--stale', on);
    els.staleBadge.hidden = !on;
  }

  function setOutput(text) {
    // textContent: translations may legitimately contain "<b>" or "&amp;"; they are text.
    els.output.textContent = text;
    els.copyBtn.disabled = text === '';
    markStale(false);
    // A "Copied" badge left over from the previous result would be a lie about this one.
    page.resetCopiedFeedback();
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
      showStatus(OVER_LIMIT_MESSAGE_PREFIX + ': the limit is ' + limit + ' characters.', 'error');
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
      const unapplied = Array.isArray(body.glossary_unapplied) ? body.glossary_unapplied : [];
      return { ok: true, text: body.result, unapplied: unapplied };
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

  /** Abort the request in flight (its answer is not wanted any more) and go idle. */
  function cancelInFlight() {
    if (state.inFlight) {
      state.inFlight.abortReason = 'cancelled';
      state.inFlight.controller.abort();
      state.inFlight = null;
      setLoading(false);
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

  async function requestTranslation(request, text, direction, glossary) {
    const body = { text: text, source: direction.source, target: direction.target };
    if (glossary) body.glossary = glossary;
    try {
      const response = await fetch(endpoint(), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
        signal: request.controller.signal,
        credentials: 'same-origin',
        cache: 'no-store',
      });
      return await interpretResponse(response);
    } catch (err) {
      return { ok: false, message: failureMessage(request, err) };
    } finally {
      finishRequest(request);
    }
  }

  async function translate() {
    clearTimeout(state.debounceTimer);
    // Guard here as well as via `disabled`: keyboard shortcuts bypass the button.
    if (state.inFlight !== null || isOverLimit()) {
      return;
    }
    const text = els.input.value;
    if (text.trim() === '') {
      // The server would answer "" anyway; skip the round trip.
      setOutput('');
      clearStatus();
      page.clearDetected();
      return;
    }
    const glossary = page.readGlossary();
    if (glossary.error) {
      els.glossary.setAttribute('aria-invalid', 'true');
      showStatus(glossary.error, 'error');
      return;
    }
    const direction = page.currentDirection();
    const request = startRequest();
    setLoading(true);
    showStatus('Translating…', null);
    page.detectLanguage(text);

    const outcome = await requestTranslation(request, text, direction, glossary.entries);

    // A cancelled request (Clear, or the text changed) must not repaint the panes.
    if (request.abortReason === 'cancelled') {
      return;
    }
    setLoading(false);
    if (outcome.ok) {
      setOutput(outcome.text);
      if (outcome.unapplied.length) {
        showStatus('Glossary terms found but not applied: ' + outcome.unapplied.join(', ') + '.', null);
      } else {
        clearStatus();
      }
      revealElement(els.output);
    } else {
      // Stale output next to a new input would look like its translation.
      setOutput('');
      showStatus(outcome.message, 'error');
      revealElement(els.status);
    }
  }

  // --- Translate as you type ---------------------------------------------------------

  /** The input changed: what is shown or on its way is stale; translate after a pause. */
  function onInput() {
    updateCounter();
    clearTimeout(state.debounceTimer);
    cancelInFlight();
    page.cancelDetection();
    if (els.input.value.trim() === '') {
      setOutput('');
      page.clearDetected();
      if (!isOverLimit() && els.status.textContent === 'Translating…') clearStatus();
      return;
    }
    markStale(true);
    if (isOverLimit()) {
      return;
    }
    state.debounceTimer = setTimeout(translate, debounceMs());
  }

  function translateNow() {
    clearTimeout(state.debounceTimer);
    cancelInFlight();
    markStale(true);
    translate();
  }

  Object.assign(page, {
    parseJsonOrNull,
    setButtonLabel,
    showStatus,
    clearStatus,
    setOutput,
    updateCounter,
    setLoading,
    cancelInFlight,
    translate,
    translateNow,
    onInput,
  });
})();
