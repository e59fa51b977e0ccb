/*
 * Two-pane translation page: direction, translate as you type, detected language.
 *
 * Plain ES2017, no build step and no dependencies. Everything lives inside this IIFE so
 * nothing leaks onto `window`. Server and user text only ever reaches the DOM through
 * `textContent`, never through HTML parsing.
 *
 * Translate as you type: every input change cancels the request in flight (its answer
 * would be stale), marks the translation shown as outdated and, once typing has paused
 * for `data-debounce-ms` (500 ms), sends the text. The Translate button and Ctrl+Enter
 * send at once. The detected language comes from LibreTranslate's `POST /detect` (the
 * native API takes a direction, it does not detect). The glossary field (term=translation
 * lines) goes with each request as the native API's `glossary` object.
 */
(function () {
  'use strict';

  // Matches the server's own upper bound; used only if the template did not provide one.
  const DEFAULT_MAX_CHARS = 5000;
  // Long enough for a slow CPU model on a big input, short enough that a dead
  // connection does not leave the page spinning forever.
  const DEFAULT_TIMEOUT_MS = 60000;
  const DEFAULT_DEBOUNCE_MS = 500;
  // If the async Clipboard API neither resolves nor rejects (a permission prompt nobody
  // answers), fall back while the click's user activation is still valid.
  const CLIPBOARD_API_WAIT_MS = 1000;
  const COPIED_FEEDBACK_MS = 2000;
  const PLACEHOLDERS = { zh: '在此输入中文…', en: 'Type English here…' };

  const OVER_LIMIT_MESSAGE_PREFIX = 'The text is too long';

  let els = null;
  const state = {
    inFlight: null, // {controller, timer, abortReason} while a request is running
    detecting: null, // the AbortController of the detection in flight
    debounceTimer: null,
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
    resetCopiedFeedback();
  }

  // On a phone the panes are stacked, so the answer may be below the fold.
  function revealElement(element) {
    if (typeof element.scrollIntoView === 'function') {
      element.scrollIntoView({ block: 'nearest' });
    }
  }

  // --- Direction ---------------------------------------------------------------------

  function optionData(option) {
    return {
      key: option.value,
      source: option.dataset.source,
      target: option.dataset.target,
      sourceName: option.dataset.sourceName,
      targetName: option.dataset.targetName,
    };
  }

  function currentDirection() {
    return optionData(els.direction.options[els.direction.selectedIndex]);
  }

  function findOption(source, target) {
    return Array.from(els.direction.options).find(function (option) {
      return (
        option.dataset.source === source && (target === null || option.dataset.target === target)
      );
    });
  }

  function languageName(code) {
    for (const option of Array.from(els.direction.options)) {
      if (option.dataset.source === code) return option.dataset.sourceName;
      if (option.dataset.target === code) return option.dataset.targetName;
    }
    return code;
  }

  /** Labels, lang attributes and the placeholder follow the selected direction. */
  function applyDirection() {
    const d = currentDirection();
    els.sourceLabel.textContent = d.sourceName;
    els.targetLabel.textContent = d.targetName;
    els.input.setAttribute('lang', d.source);
    els.output.setAttribute('lang', d.target);
    els.input.placeholder = PLACEHOLDERS[d.source] || '';
    els.copyBtn.setAttribute('aria-label', 'Copy the ' + d.targetName + ' translation');
    const reverse = findOption(d.target, d.source);
    els.swapBtn.disabled = !reverse;
    els.swapBtn.title = reverse
      ? 'Swap the languages and the texts'
      : 'This service translates ' + d.sourceName + ' → ' + d.targetName + ' only';
  }

  function selectOption(option) {
    els.direction.value = option.value;
    applyDirection();
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

  // --- Glossary ----------------------------------------------------------------------

  /** The glossary field as {entries} (null when empty) or {error} naming the line. */
  function readGlossary() {
    const entries = {};
    let count = 0;
    const lines = els.glossary.value.split('\n');
    for (let i = 0; i < lines.length; i += 1) {
      const line = lines[i].trim();
      if (line === '') continue;
      const at = line.indexOf('=');
      const term = at > 0 ? line.slice(0, at).trim() : '';
      const translation = at > 0 ? line.slice(at + 1).trim() : '';
      if (term === '' || translation === '') {
        return { error: 'Glossary line ' + (i + 1) + ': write it as term=translation.' };
      }
      if (Object.prototype.hasOwnProperty.call(entries, term)) {
        return { error: 'Glossary line ' + (i + 1) + ': the term "' + term + '" is there twice.' };
      }
      entries[term] = translation;
      count += 1;
    }
    return { entries: count ? entries : null };
  }

  function onGlossaryInput() {
    els.glossary.removeAttribute('aria-invalid');
    if (els.input.value.trim() !== '') onInput();
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
      clearDetected();
      return;
    }
    const glossary = readGlossary();
    if (glossary.error) {
      els.glossary.setAttribute('aria-invalid', 'true');
      showStatus(glossary.error, 'error');
      return;
    }
    const direction = currentDirection();
    const request = startRequest();
    setLoading(true);
    showStatus('Translating…', null);
    detectLanguage(text);

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
    cancelDetection();
    if (els.input.value.trim() === '') {
      setOutput('');
      clearDetected();
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

  // --- Detected language -------------------------------------------------------------

  function clearDetected() {
    els.detectedText.textContent = '';
    els.useDetected.hidden = true;
  }

  function cancelDetection() {
    if (state.detecting) {
      state.detecting.abort();
      state.detecting = null;
    }
  }

  function showDetected(code) {
    const direction = currentDirection();
    const name = languageName(code);
    els.detectedText.textContent = 'Detected: ' + name;
    const alternative = code === direction.source ? null : findOption(code, null);
    els.useDetected.hidden = !alternative;
    if (alternative) {
      els.useDetected.dataset.direction = alternative.value;
      els.useDetected.textContent = 'Switch to ' + alternative.textContent.trim();
    } else if (code !== direction.source) {
      els.detectedText.textContent += ' (not the selected source language)';
    }
  }

  async function detectLanguage(text) {
    cancelDetection();
    const controller = new AbortController();
    state.detecting = controller;
    const url = els.form.dataset.detectEndpoint || '/detect';
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ q: text }),
        signal: controller.signal,
        credentials: 'same-origin',
        cache: 'no-store',
      });
      const body = parseJsonOrNull(await response.text());
      const found = Array.isArray(body) && body[0] && typeof body[0].language === 'string';
      if (state.detecting === controller && response.ok && found) {
        showDetected(body[0].language);
      }
    } catch (err) {
      // Detection is a hint: an aborted or failed one shows nothing.
    } finally {
      if (state.detecting === controller) state.detecting = null;
    }
  }

  function onUseDetected() {
    const option = Array.from(els.direction.options).find(function (o) {
      return o.value === els.useDetected.dataset.direction;
    });
    if (option) {
      selectOption(option);
      clearDetected();
      translateNow();
    }
  }

  // --- Direction and swap ------------------------------------------------------------

  function onDirectionChange() {
    applyDirection();
    clearDetected();
    if (els.input.value.trim() !== '') translateNow();
  }

  /** Reverse the direction; a current translation becomes the new text, its source the
   * new translation (no request needed). Without one, the text stays and is translated. */
  function onSwap() {
    const d = currentDirection();
    const reverse = findOption(d.target, d.source);
    if (!reverse) return;
    const output = els.output.textContent;
    const current = output !== '' && !els.output.classList.contains('output--stale');
    clearTimeout(state.debounceTimer);
    cancelInFlight();
    cancelDetection();
    clearDetected();
    selectOption(reverse);
    if (current) {
      const source = els.input.value;
      els.input.value = output;
      updateCounter();
      setOutput(source);
      clearStatus();
    } else if (els.input.value.trim() !== '') {
      translateNow();
    }
    els.input.focus();
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
    clearTimeout(state.debounceTimer);
    cancelInFlight();
    cancelDetection();
    setLoading(false);
    els.input.value = '';
    setOutput('');
    clearStatus();
    clearDetected();
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
    const byId = document.getElementById.bind(document);
    return {
      form: byId('translator'),
      input: byId('source-text'),
      output: byId('target-text'),
      counter: byId('char-counter'),
      status: byId('status'),
      translateBtn: byId('translate-btn'),
      copyBtn: byId('copy-btn'),
      clearBtn: byId('clear-btn'),
      direction: byId('direction'),
      swapBtn: byId('swap-btn'),
      sourceLabel: byId('source-label'),
      targetLabel: byId('target-label'),
      staleBadge: byId('stale-badge'),
      detectedText: byId('detected-text'),
      useDetected: byId('use-detected'),
      glossary: byId('glossary'),
    };
  }

  function init() {
    els = findElements();
    if (!els.form || !els.input || !els.output) {
      return; // not the translator page
    }
    els.form.addEventListener('submit', onSubmit);
    els.input.addEventListener('input', onInput);
    els.input.addEventListener('keydown', onInputKeydown);
    els.copyBtn.addEventListener('click', onCopy);
    els.clearBtn.addEventListener('click', onClear);
    els.direction.addEventListener('change', onDirectionChange);
    els.swapBtn.addEventListener('click', onSwap);
    els.useDetected.addEventListener('click', onUseDetected);
    els.glossary.addEventListener('input', onGlossaryInput);
    // The browser may restore a previous textarea value or selection on back/forward.
    applyDirection();
    updateCounter();
    setOutput(els.output.textContent);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
