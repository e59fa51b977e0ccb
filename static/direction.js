/*
 * Two-pane translation page, part 2 of 3: direction, swap and the detected language.
 *
 * Loaded after translate.js, whose `window.translatorPage` it shares. The labels, lang
 * attributes and placeholder follow the selected direction; swap reverses it and the
 * texts. The detected language comes from LibreTranslate's `POST /detect` (the native
 * API takes a direction, it does not detect), with a switch to the matching direction.
 */
(function () {
  'use strict';

  const PLACEHOLDERS = { zh: '在此输入中文…', en: 'Type English here…' };

  const page = window.translatorPage;
  const els = page.els;
  const state = page.state;

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
      const body = page.parseJsonOrNull(await response.text());
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
      page.translateNow();
    }
  }

  // --- Direction and swap ------------------------------------------------------------

  function onDirectionChange() {
    applyDirection();
    clearDetected();
    if (els.input.value.trim() !== '') page.translateNow();
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
    page.cancelInFlight();
    cancelDetection();
    clearDetected();
    selectOption(reverse);
    if (current) {
      const source = els.input.value;
      els.input.value = output;
      page.updateCounter();
      page.setOutput(source);
      page.clearStatus();
    } else if (els.input.value.trim() !== '') {
      page.translateNow();
    }
    els.input.focus();
  }

  Object.assign(page, {
    currentDirection,
    applyDirection,
    clearDetected,
    cancelDetection,
    detectLanguage,
    onDirectionChange,
    onSwap,
    onUseDetected,
  });
})();
