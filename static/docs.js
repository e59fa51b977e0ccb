/*
 * The API documentation page: renders this service's /openapi.json in the browser.
 *
 * Endpoints grouped by API (native, LibreTranslate, DeepL), each with its parameters,
 * request body fields, responses and a curl example built from the schemas. Plain
 * ES2017, no dependencies; everything reaches the DOM through textContent.
 */
(function () {
  'use strict';

  const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
  const GROUPS = [
    { id: 'native', title: 'Native API' },
    { id: 'libretranslate', title: 'LibreTranslate-compatible', prefix: 'LibreTranslate:' },
    { id: 'deepl', title: 'DeepL-compatible', prefix: 'DeepL:' },
  ];
  // Example values by field name, so the examples read like real requests.
  const EXAMPLES = {
    text: '今天天气很好。',
    q: '今天天气很好。',
    source: 'zh',
    target: 'en',
    target_lang: 'EN-US',
    source_lang: 'ZH',
    format: 'text',
    beam_size: 4,
    api_key: 'YOUR-KEY',
    file: '@notes.md',
    job_id: 'JOB_ID',
    filename: 'ID.notes.en.md',
  };
  const MAX_DEPTH = 4;

  let spec = null;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function resolve(schema) {
    let current = schema || {};
    for (let i = 0; i < MAX_DEPTH && current.$ref; i += 1) {
      const name = current.$ref.split('/').pop();
      current = (spec.components && spec.components.schemas[name]) || {};
    }
    return current;
  }

  function refName(schema) {
    return schema && schema.$ref ? schema.$ref.split('/').pop() : null;
  }

  /** A short type description: "string (max 5000)", "zh | en", "object". */
  function describeType(raw) {
    const schema = resolve(raw);
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    if (schema.enum) return schema.enum.map(function (v) { return JSON.stringify(v); }).join(' | ');
    const choices = schema.oneOf || schema.anyOf;
    if (choices) return choices.map(describeType).join(' or ');
    let type = Array.isArray(schema.type) ? schema.type.join(' or ') : schema.type || 'any';
    if (type === 'array' && schema.items) type = 'list of ' + describeType(schema.items);
    const limits = [];
    if (schema.maxLength !== undefined) limits.push('at most ' + schema.maxLength + ' characters');
    if (schema.maxItems !== undefined) limits.push('at most ' + schema.maxItems + ' items');
    if (schema.minimum !== undefined) limits.push('from ' + schema.minimum);
    if (schema.maximum !== undefined) limits.push('to ' + schema.maximum);
    if (schema.format === 'binary') type = 'file';
    return limits.length ? type + ' (' + limits.join(', ') + ')' : type;
  }

  function example(raw, name, depth) {
    const schema = resolve(raw);
    if (name && Object.prototype.hasOwnProperty.call(EXAMPLES, name)) return EXAMPLES[name];
    if (schema.const !== undefined) return schema.const;
    if (schema.enum) return schema.enum[0];
    const choices = schema.oneOf || schema.anyOf;
    if (choices) return example(choices[0], name, depth);
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (type === 'array') return depth > MAX_DEPTH ? [] : [example(schema.items, name, depth + 1)];
    if (type === 'object' || schema.properties) return exampleObject(schema, depth);
    if (type === 'integer' || type === 'number') return schema.minimum !== undefined ? schema.minimum : 1;
    if (type === 'boolean') return false;
    return 'string';
  }

  function exampleObject(schema, depth) {
    const out = {};
    if (depth > MAX_DEPTH) return out;
    const required = schema.required || [];
    Object.keys(schema.properties || {}).forEach(function (key) {
      if (required.indexOf(key) >= 0 || key === 'source' || key === 'target') {
        out[key] = example(schema.properties[key], key, depth + 1);
      }
    });
    return out;
  }

  function fieldList(schema) {
    const resolved = resolve(schema);
    const props = resolved.properties || {};
    const required = resolved.required || [];
    const dl = el('dl');
    Object.keys(props).forEach(function (key) {
      const prop = resolve(props[key]);
      const mark = required.indexOf(key) >= 0 ? ' (required)' : '';
      dl.appendChild(el('dt', null, key + mark));
      const words = describeType(props[key]) + (prop.description ? ': ' + prop.description : '');
      dl.appendChild(el('dd', null, words));
    });
    return Object.keys(props).length ? dl : el('p', null, describeType(schema));
  }

  function curlFor(path, method, op) {
    const origin = window.location.origin;
    let url = origin + path.replace(/\{([^}]+)\}/g, function (_, name) {
      return EXAMPLES[name] || name.toUpperCase();
    });
    const parts = ['curl -s'];
    if (method !== 'get') parts.push('-X ' + method.toUpperCase());
    (op.parameters || []).filter(function (p) { return p.required; }).forEach(function (p) {
      if (p.in === 'header') parts.push("-H '" + p.name + ': ' + example(p.schema, p.name, 0) + "'");
      if (p.in === 'query') url += (url.indexOf('?') < 0 ? '?' : '&') + p.name + '=' + example(p.schema, p.name, 0);
    });
    const content = (op.requestBody && op.requestBody.content) || {};
    const types = Object.keys(content);
    if (types.indexOf('application/json') >= 0) {
      const body = example(content['application/json'].schema, null, 0);
      parts.push("-H 'Content-Type: application/json'", "-d '" + JSON.stringify(body) + "'");
    } else if (types.indexOf('multipart/form-data') >= 0) {
      const body = example(content['multipart/form-data'].schema, null, 0);
      Object.keys(body).forEach(function (k) { parts.push('-F ' + k + '=' + body[k]); });
      if (op.responses && op.responses['200'] && !op.responses['200'].content['application/json']) {
        parts.push('-OJ');
      }
    }
    parts.push("'" + url + "'");
    return parts.join(' ');
  }

  function renderParameters(op, box) {
    if (!op.parameters || !op.parameters.length) return;
    box.appendChild(el('h4', null, 'Parameters'));
    const dl = el('dl');
    op.parameters.forEach(function (p) {
      dl.appendChild(el('dt', null, p.name + ' (' + p.in + (p.required ? ', required' : '') + ')'));
      dl.appendChild(el('dd', null, describeType(p.schema) + (p.description ? ': ' + p.description : '')));
    });
    box.appendChild(dl);
  }

  function renderBody(op, box) {
    const content = op.requestBody && op.requestBody.content;
    if (!content) return;
    const types = Object.keys(content);
    box.appendChild(el('h4', null, 'Request body: ' + types.join(', ')));
    const first = content[types[0]].schema;
    const choices = resolve(first).oneOf;
    (choices || [first]).forEach(function (schema) {
      const name = refName(schema);
      if (name && choices) box.appendChild(el('p', null, name));
      box.appendChild(fieldList(schema));
    });
  }

  /** A schema's name for a list of responses: its component name(s), else its type. */
  function typeName(schema) {
    if (!schema) return '';
    if (schema.$ref) return refName(schema);
    const choices = schema.oneOf || schema.anyOf;
    if (choices) return choices.map(typeName).join(' or ');
    return describeType(schema);
  }

  /** Statuses that answer the same way share one line: "400, 413, 503". */
  function renderResponses(op, box) {
    box.appendChild(el('h4', null, 'Responses'));
    const lines = [];
    Object.keys(op.responses || {}).forEach(function (status) {
      const answer = op.responses[status];
      const media = answer.content ? Object.keys(answer.content) : [];
      const name = media.length ? typeName(answer.content[media[0]].schema) : '';
      const words = answer.description + (name ? ' · ' + name : '');
      const same = lines.find(function (line) { return line.words === words; });
      if (same) same.statuses.push(status);
      else lines.push({ statuses: [status], words: words });
    });
    const dl = el('dl');
    lines.forEach(function (line) {
      dl.appendChild(el('dt', null, line.statuses.join(', ')));
      dl.appendChild(el('dd', null, line.words));
    });
    box.appendChild(dl);
  }

  function renderOperation(path, method, op) {
    const box = el('article', 'docs-op');
    box.id = (method + path).replace(/[^A-Za-z0-9]+/g, '-');
    const title = el('h3');
    title.appendChild(el('span', 'docs-method', method));
    title.appendChild(el('span', 'docs-path', path));
    box.appendChild(title);
    box.appendChild(el('p', null, op.summary || ''));
    if (op.description) box.appendChild(el('p', 'docs-intro', op.description));
    renderParameters(op, box);
    renderBody(op, box);
    renderResponses(op, box);
    box.appendChild(el('h4', null, 'Example'));
    box.appendChild(el('pre', 'docs-code', curlFor(path, method, op)));
    return box;
  }

  function groupOf(op) {
    for (let i = GROUPS.length - 1; i > 0; i -= 1) {
      if ((op.summary || '').indexOf(GROUPS[i].prefix) === 0) return GROUPS[i].id;
    }
    return GROUPS[0].id;
  }

  // The native group leads with translation; the rest keep the description's order.
  function pathRank(path) {
    if (path.indexOf('/translate') === 0) return 0;
    if (path === '/openapi.json') return 2;
    return 1;
  }

  function orderedPaths() {
    return Object.keys(spec.paths).sort(function (a, b) {
      return pathRank(a) - pathRank(b) || (a < b ? -1 : a > b ? 1 : 0);
    });
  }

  function tocEntry(list, box, method, path) {
    const item = el('li');
    const link = el('a', null, method.toUpperCase() + ' ' + path);
    link.href = '#' + box.id;
    item.appendChild(link);
    list.appendChild(item);
  }

  function render(root) {
    const sections = {};
    const lists = {};
    const toc = el('nav', 'docs-toc-nav');
    toc.setAttribute('aria-label', 'Endpoints');
    GROUPS.forEach(function (g) {
      sections[g.id] = el('section', 'docs-group');
      sections[g.id].id = 'api-' + g.id;
      sections[g.id].appendChild(el('h2', null, g.title));
      lists[g.id] = el('ul', 'docs-toc');
    });
    orderedPaths().forEach(function (path) {
      METHODS.forEach(function (method) {
        const op = spec.paths[path][method];
        if (!op) return;
        const group = groupOf(op);
        const box = renderOperation(path, method, op);
        sections[group].appendChild(box);
        tocEntry(lists[group], box, method, path);
      });
    });
    root.textContent = '';
    root.appendChild(el('p', 'docs-intro', spec.info.title + ' ' + spec.info.version + ': ' +
      (spec.info.description || '')));
    GROUPS.forEach(function (g) {
      if (!lists[g.id].children.length) return;
      const link = el('a', null, g.title);
      link.href = '#api-' + g.id;
      const heading = el('h3', 'docs-toc-title');
      heading.appendChild(link);
      toc.appendChild(heading);
      toc.appendChild(lists[g.id]);
    });
    root.appendChild(toc);
    GROUPS.forEach(function (g) {
      if (lists[g.id].children.length) root.appendChild(sections[g.id]);
    });
    root.setAttribute('aria-busy', 'false');
  }

  async function init() {
    const root = document.getElementById('api-docs');
    if (!root) return;
    try {
      const response = await fetch(root.dataset.spec || '/openapi.json', { cache: 'no-store' });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      spec = await response.json();
      render(root);
    } catch (err) {
      const status = document.getElementById('docs-status');
      status.textContent = 'Could not load the API description (' + err.message + ').';
      status.classList.add('status--error');
      root.setAttribute('aria-busy', 'false');
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
