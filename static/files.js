/*
 * File translation on the page: upload, progress, download.
 *
 * The file goes to `POST /translate/file` with `Prefer: respond-async`: the server
 * answers 202 with a job at once and translates in the background; the page polls the
 * job's `status_url` (progress: characters done of total) until it is done, then offers
 * its `download_url`. The direction is the one chosen in the translator above.
 * Plain ES2017; server text reaches the DOM through `textContent` only.
 */
(function () {
  'use strict';

  const DEFAULT_POLL_MS = 700;
  const MAX_POLL_FAILURES = 5;

  let els = null;
  const state = { busy: false, pollTimer: null, controller: null };

  function readPositiveInt(value, fallback) {
    const n = parseInt(value, 10);
    return Number.isFinite(n) && n > 0 ? n : fallback;
  }

  function pollMs() {
    return readPositiveInt(els.form.dataset.pollMs, DEFAULT_POLL_MS);
  }

  function parseJsonOrNull(raw) {
    try {
      return JSON.parse(raw);
    } catch (err) {
      return null;
    }
  }

  function showStatus(message, kind) {
    els.status.textContent = message;
    els.status.classList.toggle('status--error', kind === 'error');
    els.status.classList.toggle('status--ok', kind === 'ok');
  }

  function formatBytes(bytes) {
    return bytes >= 1048576
      ? (bytes / 1048576).toFixed(1) + ' MB'
      : Math.max(1, Math.round(bytes / 1024)) + ' KB';
  }

  function setBusy(busy) {
    state.busy = busy;
    els.button.disabled = busy;
    els.form.setAttribute('aria-busy', String(busy));
  }

  function setProgress(fraction) {
    els.progress.hidden = fraction === null;
    if (fraction !== null) {
      const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
      els.progress.value = percent;
      els.progress.textContent = percent + ' %';
    }
  }

  function resetResult() {
    clearTimeout(state.pollTimer);
    if (state.controller) state.controller.abort();
    state.controller = null;
    els.download.hidden = true;
    els.download.removeAttribute('href');
    setProgress(null);
    setBusy(false);
  }

  function direction() {
    const select = document.getElementById('direction');
    const option = select ? select.options[select.selectedIndex] : null;
    return option ? { source: option.dataset.source, target: option.dataset.target } : {};
  }

  /** The envelope's message, or a sentence naming the HTTP status. */
  function errorMessage(status, body) {
    const error = body && typeof body === 'object' ? body.error : null;
    if (error && typeof error.message === 'string' && error.message) return error.message;
    if (status === 413) return 'The file is too large for the server.';
    return 'The file could not be translated (HTTP ' + status + ').';
  }

  async function getJson(url, options) {
    const response = await fetch(url, options);
    return { response: response, body: parseJsonOrNull(await response.text()) };
  }

  function finish(job) {
    setBusy(false);
    setProgress(1);
    els.download.href = job.download_url;
    els.download.setAttribute('download', job.filename);
    els.download.textContent = 'Download ' + job.filename;
    els.download.hidden = false;
    showStatus('Translated: ' + job.filename + '.', 'ok');
  }

  function report(job, name) {
    if (job.state === 'done') {
      finish(job);
      return true;
    }
    if (job.state === 'failed') {
      setBusy(false);
      setProgress(null);
      showStatus(errorMessage(500, job), 'error');
      return true;
    }
    setProgress(job.progress || 0);
    showStatus('Translating ' + name + '… ' + Math.round((job.progress || 0) * 100) + ' %', null);
    return false;
  }

  function poll(url, name, failures) {
    state.pollTimer = setTimeout(async function () {
      try {
        const got = await getJson(url, { cache: 'no-store', credentials: 'same-origin' });
        const job = got.body && got.body.job;
        if (!got.response.ok || !job) {
          showStatus(errorMessage(got.response.status, got.body), 'error');
          setBusy(false);
          setProgress(null);
          return;
        }
        if (!report(job, name)) poll(url, name, 0);
      } catch (err) {
        if (failures + 1 >= MAX_POLL_FAILURES) {
          showStatus('Network error: lost contact with the server.', 'error');
          setBusy(false);
          return;
        }
        poll(url, name, failures + 1);
      }
    }, pollMs());
  }

  async function upload(file) {
    const body = new FormData();
    body.append('file', file, file.name);
    const d = direction();
    if (d.source) body.append('source', d.source);
    if (d.target) body.append('target', d.target);
    state.controller = new AbortController();
    const got = await getJson(els.form.dataset.endpoint || '/translate/file', {
      method: 'POST',
      body: body,
      headers: { Prefer: 'respond-async', Accept: 'application/json' },
      signal: state.controller.signal,
      credentials: 'same-origin',
      cache: 'no-store',
    });
    state.controller = null;
    const job = got.body && got.body.job;
    if (got.response.status !== 202 || !job) {
      throw new Error(errorMessage(got.response.status, got.body));
    }
    if (!report(job, file.name)) poll(job.status_url, file.name, 0);
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (state.busy) return;
    const file = els.input.files && els.input.files[0];
    if (!file) {
      showStatus('Choose a file first.', 'error');
      return;
    }
    const maxBytes = readPositiveInt(els.form.dataset.maxBytes, 0);
    if (maxBytes && file.size > maxBytes) {
      showStatus('The file is ' + formatBytes(file.size) + '; the limit is ' +
        formatBytes(maxBytes) + '.', 'error');
      return;
    }
    resetResult();
    setBusy(true);
    setProgress(0);
    showStatus('Uploading ' + file.name + '…', null);
    try {
      await upload(file);
    } catch (err) {
      if (err && err.name === 'AbortError') return; // another file was chosen meanwhile
      setBusy(false);
      setProgress(null);
      const network = err && err.name === 'TypeError';
      showStatus(network ? 'Network error: could not reach the server.' : err.message, 'error');
    }
  }

  function init() {
    els = {
      form: document.getElementById('file-form'),
      input: document.getElementById('file-input'),
      button: document.getElementById('file-btn'),
      progress: document.getElementById('file-progress'),
      status: document.getElementById('file-status'),
      download: document.getElementById('file-download'),
    };
    if (!els.form || !els.input) return;
    els.form.addEventListener('submit', onSubmit);
    els.input.addEventListener('change', function () {
      resetResult();
      showStatus('', null);
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
