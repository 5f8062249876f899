// smear web app: helpers shared by every page (loaded first, before the page's own script).
// No framework, nothing fetched from another site; the pages' Content-Security-Policy forbids inline
// scripts and styles, so everything is wired here with addEventListener.
'use strict';

const Smear = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') || '';

  /** The one-line message of a failed API response (`{"error":{"message":…}}`), or a plain fallback. */
  function errorFromText(status, statusText, text) {
    let message = '';
    try {
      const body = JSON.parse(text);
      message = body?.error?.message || body?.message || '';
    } catch (_) { /* not JSON */ }
    if (!message) message = (text && text.length < 200 && !/^\s*</.test(text)) ? text.trim() : '';
    if (!message) message = statusText || 'request failed';
    const error = new Error(message + (status ? ` (HTTP ${status})` : ''));
    error.status = status;
    return error;
  }

  /**
   * A JSON API call. Non-GET requests carry the CSRF token. `body` is sent as JSON unless it is a
   * Blob/File (sent raw). Resolves to the parsed JSON (or null for an empty body); rejects with an
   * Error whose message is one line for the user.
   */
  async function api(method, url, body) {
    const options = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET' && method !== 'HEAD') options.headers['X-CSRF-Token'] = csrf;
    if (body instanceof Blob) {
      options.body = body;
      options.headers['Content-Type'] = body.type || 'application/octet-stream';
    } else if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers['Content-Type'] = 'application/json';
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (e) {
      const error = new Error('cannot reach the smear server: is it still running?');
      error.status = 0;
      throw error;
    }
    const text = await response.text();
    if (!response.ok) throw errorFromText(response.status, response.statusText, text);
    if (!text) return null;
    try { return JSON.parse(text); } catch (_) { throw new Error('the server sent a response that is not JSON'); }
  }

  /**
   * Uploads a file with PUT through XMLHttpRequest, reporting progress (0…1) to `onProgress`.
   * Resolves to the parsed JSON response; rejects with a one-line Error.
   */
  function upload(url, file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', url);
      xhr.setRequestHeader('X-CSRF-Token', csrf);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); });
      xhr.addEventListener('load', () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          try { resolve(xhr.responseText ? JSON.parse(xhr.responseText) : null); } catch (_) { resolve(null); }
        } else {
          reject(errorFromText(xhr.status, xhr.statusText, xhr.responseText));
        }
      });
      xhr.addEventListener('error', () => reject(new Error(`${file.name}: the upload failed (connection lost?)`)));
      xhr.addEventListener('abort', () => reject(new Error(`${file.name}: the upload was cancelled`)));
      xhr.send(file);
    });
  }

  /** Creates an element: el('a', {href: '/', class: 'x', dataset: {id: 1}}, 'text', child…). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === 'class') node.className = value;
        else if (key === 'dataset') Object.assign(node.dataset, value);
        else if (key === 'text') node.textContent = value;
        else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
        else if (value === true) node.setAttribute(key, '');
        else node.setAttribute(key, String(value));
      }
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  /** Shows `message` in a one-line error element (hides it for an empty message). */
  function showError(node, message) {
    if (!node) return;
    if (message) {
      node.textContent = message;
      node.hidden = false;
    } else {
      node.textContent = '';
      node.hidden = true;
    }
  }

  const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  const int = (n) => (n === null || n === undefined || Number.isNaN(Number(n)) ? '–' : numberFormat.format(Number(n)));
  const percent = (p) => (p === null || p === undefined ? '–' : `${Number(p).toFixed(2)} %`);
  const probability = (p, digits = 2) => (p === null || p === undefined ? '–' : Number(p).toFixed(digits));

  function bytes(n) {
    n = Number(n) || 0;
    if (n < 1024) return `${n} B`;
    const units = ['KB', 'MB', 'GB', 'TB'];
    let i = -1;
    do { n /= 1024; i += 1; } while (n >= 1024 && i < units.length - 1);
    return `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
  }

  const pad = (n) => String(n).padStart(2, '0');
  /** An ISO timestamp as local "YYYY-MM-DD HH:MM" (with seconds if asked). */
  function dateTime(iso, seconds = false) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    const text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
    return seconds ? `${text}:${pad(d.getSeconds())}` : text;
  }

  function debounce(fn, ms) {
    let timer = 0;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  /** Whether a key event comes from a place where the user types (so page shortcuts stay off). */
  function isTyping(target) {
    if (!target || !(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    const tag = target.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
    if (tag !== 'INPUT') return false;
    const type = (target.getAttribute('type') || 'text').toLowerCase();
    return !['button', 'submit', 'reset', 'checkbox', 'radio', 'file', 'range', 'color', 'image'].includes(type);
  }

  /** Files dropped on or chosen for `zone`: wires drag-and-drop highlighting and calls `onFiles(FileList)`. */
  function dropZone(zone, onFiles) {
    let depth = 0;
    zone.addEventListener('dragenter', (e) => { e.preventDefault(); depth += 1; zone.classList.add('dragging'); });
    zone.addEventListener('dragover', (e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; });
    zone.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (depth === 0) zone.classList.remove('dragging'); });
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      depth = 0;
      zone.classList.remove('dragging');
      if (e.dataTransfer?.files?.length) onFiles(e.dataTransfer.files);
    });
  }

  // A file dropped outside a drop zone would replace the page: refuse it.
  window.addEventListener('dragover', (e) => { if (!e.target.closest?.('.drop')) e.preventDefault(); });
  window.addEventListener('drop', (e) => { if (!e.target.closest?.('.drop')) e.preventDefault(); });

  return { csrf, api, upload, el, showError, int, percent, probability, bytes, dateTime, debounce, isTyping, dropZone };
})();
