// The console's only script (CSP allows no inline code): buttons that post to the API, forms
// that post JSON and show errors per field, and regions that refresh themselves while a run or
// backfill is open. Served as /assets/console.js.
'use strict';
(function () {
  const csrf = () => document.querySelector('meta[name=csrf-token]').content;

  async function post(url, body) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf() },
      body: JSON.stringify(body),
    });
    let json = {};
    try {
      json = await res.json();
    } catch {
      json = { error: 'the console answered ' + res.status + ' without a message' };
    }
    return { ok: res.ok, status: res.status, json };
  }

  function outcome(text, ok) {
    const el = document.getElementById('outcome');
    if (!el) return;
    el.hidden = false;
    el.className = ok ? 'ok' : 'refused';
    el.textContent = text;
  }

  function describe(json) {
    if (json.message) return json.message;
    if (Array.isArray(json.tasks)) return json.tasks.length ? 'done: ' + json.tasks.join(', ') : 'done; no task changed';
    if (json.runId) return 'run ' + json.runId + (json.started === false ? ' already existed' : ' started');
    return 'done';
  }

  const live = [];
  async function refresh(el) {
    const res = await fetch(el.dataset.live, { headers: { 'x-sluice-fragment': '1' } });
    if (!res.ok) return;
    // What the reader opened or closed stays so: the new HTML would reset every <details>.
    const opened = new Map([...el.querySelectorAll('details[data-key]')].map((d) => [d.dataset.key, d.open]));
    el.innerHTML = await res.text();
    for (const d of el.querySelectorAll('details[data-key]')) if (opened.has(d.dataset.key)) d.open = opened.get(d.dataset.key);
    if (res.headers.get('x-sluice-live') === 'done') el.dataset.liveDone = '1';
  }

  // A link to one task of a run (from the grid) opens that task's attempts and logs.
  function openLinkedTask() {
    const row = location.hash.startsWith('#task-') && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    const details = row && document.querySelector('details[data-key="' + CSS.escape(row.id) + '"]');
    if (details) details.open = true;
  }
  function refreshAll() {
    return Promise.all(live.map((el) => refresh(el).catch(() => undefined)));
  }

  document.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-post]');
    if (!button) return;
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    button.disabled = true;
    try {
      const { ok, json } = await post(button.dataset.post, JSON.parse(button.dataset.body || '{}'));
      outcome(ok ? describe(json) : 'refused: ' + json.error, ok);
      if (ok && json.location) window.location.href = json.location;
      else if (ok && live.length) await refreshAll();
      else if (ok) setTimeout(() => window.location.reload(), 1200);
    } finally {
      button.disabled = false;
    }
  });

  function fieldValue(input) {
    if (input.type === 'checkbox') return input.checked;
    const text = input.value;
    if (text === '') return undefined;
    const type = input.dataset.type;
    if (type === 'number' || type === 'integer') return Number(text);
    if (type === 'json') return JSON.parse(text);
    return text;
  }

  document.addEventListener('submit', async (event) => {
    const form = event.target.closest('form[data-api]');
    if (!form) return;
    event.preventDefault();
    const submitter = event.submitter;
    const body = {};
    for (const el of form.querySelectorAll('[data-error-for]')) el.textContent = '';
    for (const input of form.querySelectorAll('input[name], select[name], textarea[name]')) {
      try {
        const value = fieldValue(input);
        if (value !== undefined) body[input.name] = value;
      } catch {
        const slot = form.querySelector('[data-error-for="' + input.name + '"]');
        if (slot) slot.textContent = 'not valid JSON';
        return;
      }
    }
    Object.assign(body, JSON.parse((submitter && submitter.dataset.extra) || '{}'));
    const url = (submitter && submitter.dataset.api) || form.dataset.api;
    const { ok, json } = await post(url, body);
    if (!ok) {
      for (const [name, message] of Object.entries(json.fields || {})) {
        const slot = form.querySelector('[data-error-for="' + name + '"]');
        if (slot) slot.textContent = message;
      }
      outcome('refused: ' + json.error, false);
      return;
    }
    const target = submitter && submitter.dataset.target && document.querySelector(submitter.dataset.target);
    if (target && typeof json.html === 'string') {
      target.innerHTML = json.html;
      return;
    }
    if (json.location) window.location.href = json.location;
    else outcome(describe(json), true);
  });

  window.addEventListener('hashchange', openLinkedTask);
  document.addEventListener('DOMContentLoaded', () => {
    openLinkedTask();
    live.push(...document.querySelectorAll('[data-live]'));
    if (!live.length) return;
    setInterval(() => {
      if (document.hidden) return;
      for (const el of live) if (!el.dataset.liveDone) refresh(el).catch(() => undefined);
    }, 2000);
  });
})();
