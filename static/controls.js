/*
 * Two-pane translation page, part 3 of 3: the glossary field, Copy and Clear, and the
 * wiring that starts the page.
 *
 * Loaded last of the three (after translate.js and direction.js, whose
 * `window.translatorPage` it shares): start-up finds the elements and binds every
 * handler, so everything it binds must already be defined.
 */
(function () {
  'use strict';

  // If the async Clipboard API neither resolves nor rejects (a permission prompt nobody
  // answers), fall back while the click's user activation is still valid.
  const CLIPBOARD_API_WAIT_MS = 1000;
  const COPIED_FEEDBACK_MS = 2000;

  const page = window.translatorPage;
  const els = page.els;
  const state = page.state;

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
    if (els.input.value.trim() !== '') page.onInput();
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
    page.setButtonLabel(els.copyBtn, 'Copy');
    els.copyBtn.classList.remove('btn--done');
  }

  function showCopiedFeedback() {
    clearTimeout(state.copiedTimer);
    page.setButtonLabel(els.copyBtn, 'Copied');
    els.copyBtn.classList.add('btn--done');
    page.showStatus('Copied to clipboard.', 'ok');
    state.copiedTimer = setTimeout(resetCopiedFeedback, COPIED_FEEDBACK_MS);
  }

  async function onCopy() {
    const text = els.output.textContent;
    if (text === '') {
      page.showStatus('Nothing to copy yet.', null);
      return;
    }
    const copied = await copyText(text);
    // The scratch textarea stole focus; give it back so keyboard users stay in place.
    els.copyBtn.focus();
    if (copied) {
      showCopiedFeedback();
    } else {
      page.showStatus('Could not copy automatically; select the translation and press Ctrl+C.', 'error');
    }
  }

  // --- Clear -------------------------------------------------------------------------

  function onClear() {
    clearTimeout(state.debounceTimer);
    page.cancelInFlight();
    page.cancelDetection();
    page.setLoading(false);
    els.input.value = '';
    page.setOutput('');
    page.clearStatus();
    page.clearDetected();
    page.updateCounter();
    els.input.focus();
  }

  // --- Wiring ------------------------------------------------------------------------

  function onSubmit(event) {
    event.preventDefault();
    page.translate();
  }

  function onInputKeydown(event) {
    // keyCode 229 / isComposing: the Enter that confirms an IME (pinyin) candidate.
    if (event.isComposing || event.keyCode === 229) {
      return;
    }
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      page.translate();
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
    Object.assign(els, findElements());
    if (!els.form || !els.input || !els.output) {
      return; // not the translator page
    }
    els.form.addEventListener('submit', onSubmit);
    els.input.addEventListener('input', page.onInput);
    els.input.addEventListener('keydown', onInputKeydown);
    els.copyBtn.addEventListener('click', onCopy);
    els.clearBtn.addEventListener('click', onClear);
    els.direction.addEventListener('change', page.onDirectionChange);
    els.swapBtn.addEventListener('click', page.onSwap);
    els.useDetected.addEventListener('click', page.onUseDetected);
    els.glossary.addEventListener('input', onGlossaryInput);
    // The browser may restore a previous textarea value or selection on back/forward.
    page.applyDirection();
    page.updateCounter();
    page.setOutput(els.output.textContent);
  }

  Object.assign(page, {
    readGlossary,
    resetCopiedFeedback,
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
