// smear web app, a sample's page (`/samples/{id}`): analysis progress, figures, the review grid with
// its keyboard flow and in-place viewer, sign-off, exports and the audit trail.
'use strict';

(() => {
  const { api, el, showError, int, percent, probability, dateTime, debounce, isTyping } = Smear;
  const $ = (id) => document.getElementById(id);

  const sampleId = Number(window.location.pathname.split('/').filter(Boolean)[1]);
  const filesURL = (path) => '/files/' + String(path).split('/').map(encodeURIComponent).join('/');

  const grid = $('review-grid');
  const reviewerInput = $('reviewer');
  const notice = $('notice');
  const viewer = $('viewer');

  /** The latest `GET /api/samples/{id}`. */
  let detail = null;
  let fieldsById = new Map();
  /** The review list, in order, and each cell's element by cell id. */
  let cells = [];
  const nodes = new Map();
  const indexById = new Map();
  let current = -1;
  /** Whether the reviewer has moved or decided yet (until then a refreshed list starts at its first cell). */
  let userMoved = false;
  let locked = false;
  /** Decisions this page made, by cell id, with when their response arrived (performance.now()). */
  const localDecisions = new Map();
  let lastDecisionAt = -1;
  let pollTimer = 0;
  let cellsSignature = '';
  let fieldsSignature = '';

  // MARK: messages

  let noticeTimer = 0;
  function notify(message, kind = 'info') {
    clearTimeout(noticeTimer);
    notice.textContent = message;
    notice.className = `notice ${kind}`;
    notice.hidden = false;
    if (kind !== 'error') noticeTimer = setTimeout(() => { notice.hidden = true; }, 4000);
  }
  function clearErrorNotice() {
    if (notice.classList.contains('error')) notice.hidden = true;
  }

  // MARK: reviewer name

  const reviewerKey = 'smear.reviewer';
  try { reviewerInput.value = localStorage.getItem(reviewerKey) || ''; } catch (_) { /* storage unavailable */ }
  reviewerInput.addEventListener('input', () => {
    reviewerInput.classList.remove('needs');
    try { localStorage.setItem(reviewerKey, reviewerInput.value.trim()); } catch (_) { /* storage unavailable */ }
  });
  function reviewerName() {
    const name = reviewerInput.value.trim();
    if (!name) {
      reviewerInput.classList.add('needs');
      notify('Enter your name in “Reviewer” first: every decision is signed with it.', 'error');
    }
    return name;
  }

  // MARK: sample, status, progress

  async function load() {
    clearTimeout(pollTimer);
    const started = performance.now();
    let data;
    try {
      data = await api('GET', `/api/samples/${sampleId}`);
    } catch (e) {
      showError($('load-error'), `Cannot load the sample: ${e.message}`);
      if (!detail && e.status === 404) { $('sample-title').textContent = 'No such sample'; $('status').textContent = ''; return; }
      pollTimer = setTimeout(load, 3000);
      return;
    }
    showError($('load-error'), '');
    detail = data;
    fieldsById = new Map((data.fields || []).map((f) => [f.id, f]));
    renderHead(data);
    if (!(lastDecisionAt > started) && data.summary) renderFigures(data.summary);
    else if (!data.summary) renderFigures(null);
    renderFields(data);
    renderExports(data);
    const status = data.analysis?.status || null;
    const signature = `${status}:${(data.fields || []).length}:${data.analysis?.id || ''}`;
    if (signature !== cellsSignature) {
      cellsSignature = signature;
      loadCells();
    }
    if (status === 'queued' || status === 'running') pollTimer = setTimeout(load, 1000);
  }

  function renderHead(data) {
    const sample = data.sample;
    $('sample-title').textContent = sample.name;
    document.title = `${sample.name} · smear`;
    const analysis = data.analysis;
    const status = analysis?.status || null;
    const statusNode = $('status');
    statusNode.className = `status status-${status || 'none'}`;
    statusNode.dataset.status = status || '';
    statusNode.textContent = status ? status + (analysis.error ? ` — ${analysis.error}` : '') : 'not analysed';

    const unit = (data.inputs || []).some((i) => i.kind === 'slide') ? 'tiles' : 'fields';
    const progress = $('progress');
    const done = analysis?.done || 0;
    const total = analysis?.total || 0;
    if (analysis && total) {
      progress.max = total;
      progress.value = done;
    } else if (status === 'queued' || status === 'running') {
      progress.removeAttribute('value');  // indeterminate until the total is known
    } else {
      progress.max = 1;
      progress.value = status === 'done' ? 1 : 0;
    }
    const text = !analysis ? ''
      : total ? `${int(done)} of ${int(total)} ${unit}`
        : status === 'queued' ? 'waiting to start' : status === 'running' ? `starting: reading the ${unit}…` : `0 ${unit}`;
    progress.textContent = text;
    progress.hidden = !analysis;
    $('progress-text').textContent = text;
    $('resume').hidden = !(status === 'interrupted' || status === 'failed');
    $('analyse').hidden = !(!analysis && (data.inputs || []).length > 0);

    const meta = [];
    meta.push(`Created ${dateTime(sample.created_at)}`);
    const inputs = data.inputs || [];
    if (inputs.length) meta.push(`${inputs.length} ${inputs.length === 1 ? 'file' : 'files'}${sample.folder ? ` from /${sample.folder}` : ''}`);
    if (sample.target_cells) meta.push(`target ${int(sample.target_cells)} cells`);
    else meta.push('counting every cell');
    if (analysis) meta.push(`model ${analysis.model}, threshold ${analysis.threshold}`);
    $('sample-meta').textContent = meta.join(' · ');

    const signedBy = sample.signed_off_by;
    if (signedBy) {
      const signed = $('signed');
      signed.textContent = `Signed off by ${signedBy} at ${dateTime(sample.signed_off_at)}`;
      signed.title = sample.signed_off_at || '';
      signed.hidden = false;
      lock();
    }
    const signoff = $('signoff');
    signoff.hidden = Boolean(signedBy);
    signoff.disabled = status !== 'done' || Boolean(signedBy);
    signoff.title = status === 'done' ? 'Sign off the reviewed figures; the review is then locked' : 'Possible once the analysis is done';
  }

  $('resume').addEventListener('click', async () => {
    const analysis = detail?.analysis;
    if (!analysis) return;
    $('resume').disabled = true;
    try {
      await api('POST', `/api/analyses/${analysis.id}/resume`);
      notify('Analysis resumed.');
      await load();
    } catch (e) {
      notify(`Cannot resume: ${e.message}`, 'error');
    } finally {
      $('resume').disabled = false;
    }
  });

  $('analyse').addEventListener('click', async () => {
    $('analyse').disabled = true;
    try {
      await api('POST', `/api/samples/${sampleId}/analyses`, {});
      await load();
    } catch (e) {
      notify(`Cannot start the analysis: ${e.message}`, 'error');
    } finally {
      $('analyse').disabled = false;
    }
  });

  // MARK: figures

  function renderFigure(node, f) {
    const q = (selector) => node.querySelector(selector);
    if (!f) {
      q('.figure-percent').textContent = '–';
      q('.figure-ci').textContent = 'no cells counted yet';
      q('.figure-cells').textContent = '';
      q('.figure-ul').textContent = '';
      const empty = q('.figure-adjusted');
      if (empty) empty.textContent = '';
      return;
    }
    const ci = f.parasitemia_ci95_percent;
    const ulci = f.parasites_per_microlitre_ci95;
    q('.figure-percent').textContent = percent(f.parasitemia_percent);
    q('.figure-ci').textContent = ci ? `95 % CI ${Number(ci[0]).toFixed(2)}–${Number(ci[1]).toFixed(2)} %` : 'no cells counted yet';
    q('.figure-cells').textContent = f.cells_counted ? `${int(f.parasitized)} of ${int(f.cells_counted)} cells` : '';
    q('.figure-ul').textContent = f.parasites_per_microlitre === null || f.parasites_per_microlitre === undefined
      ? ''
      : `${int(f.parasites_per_microlitre)} parasites/µL` + (ulci ? ` (95 % CI ${int(ulci[0])}–${int(ulci[1])})` : '');
    const adjusted = q('.figure-adjusted');
    if (adjusted) {
      const a = f.adjusted_parasitemia_percent, aci = f.adjusted_parasitemia_ci95_percent;
      adjusted.textContent = a === null || a === undefined ? ''
        : `adjusted for the classifier's errors: ${percent(a)}` + (aci ? ` (95 % CI ${Number(aci[0]).toFixed(2)}–${Number(aci[1]).toFixed(2)} %)` : '');
    }
  }

  function renderFigures(summary) {
    const reviewed = $('reviewed');
    renderFigure($('automatic'), summary?.automatic);
    renderFigure(reviewed, summary?.reviewed);
    reviewed.dataset.parasitized = summary ? String(summary.reviewed.parasitized) : '';
    const p = summary?.reviewed?.parasitemia_percent;
    reviewed.dataset.percent = p === null || p === undefined ? '' : String(p);
    const reviewedCount = summary?.cells_reviewed || 0;
    const changedCount = summary?.calls_changed || 0;
    $('cells-reviewed').textContent = int(reviewedCount);
    $('cells-reviewed-unit').textContent = reviewedCount === 1 ? 'cell reviewed' : 'cells reviewed';
    $('calls-changed').textContent = int(changedCount);
    $('calls-changed-unit').textContent = changedCount === 1 ? 'call changed' : 'calls changed';
    const differs = summary && summary.calls_changed > 0;
    reviewed.classList.toggle('differs', Boolean(differs));
  }

  // MARK: fields and failures

  function renderFields(data) {
    const fields = data.fields || [];
    const failures = data.failures || [];
    const signature = `${fields.length}:${failures.length}`;
    if (signature === fieldsSignature) return;
    fieldsSignature = signature;
    const tbody = $('fields').tBodies[0];
    tbody.replaceChildren();
    if (!fields.length) {
      tbody.append(el('tr', { class: 'empty' }, el('td', { colspan: 4 }, data.analysis ? 'No fields analysed yet.' : 'Not analysed.')));
    }
    let counted = 0, parasitized = 0;
    for (const f of fields) {
      if (f.counted) { counted += f.cells_counted; parasitized += f.parasitized; }
      const name = f.overlay
        ? el('a', { href: filesURL(f.overlay), target: '_blank', rel: 'noopener', title: 'Open the annotated field' }, f.name)
        : el('span', null, f.name);
      tbody.append(el('tr', { class: f.counted ? '' : 'not-counted', dataset: { fieldId: f.id } },
        el('td', null, name),
        el('td', { class: 'num' }, int(f.cells_counted)),
        el('td', { class: 'num' }, int(f.parasitized)),
        el('td', null, f.counted ? el('span', { class: 'ok' }, 'counted') : el('span', { class: 'problem' }, `not counted: ${f.problem || 'failed quality control'}`))));
    }
    if (fields.length > 1) {
      tbody.append(el('tr', { class: 'total' },
        el('td', null, `${fields.length} fields, counted ones:`),
        el('td', { class: 'num' }, int(counted)),
        el('td', { class: 'num' }, int(parasitized)),
        el('td', null, '')));
    }
    const list = $('failures');
    list.replaceChildren(...failures.map((f) => el('li', null, el('strong', null, f.input), ': ', f.message)));
    $('failures-block').hidden = failures.length === 0;
  }

  // MARK: exports

  function renderExports(data) {
    const done = data.analysis?.status === 'done';
    const signed = Boolean(data.sample.signed_off_by);
    for (const link of document.querySelectorAll('#exports a[data-export]')) {
      const file = link.dataset.export;
      link.replaceChildren(file);
      if (done) {
        link.href = `/api/samples/${sampleId}/export/${file}`;
        link.removeAttribute('aria-disabled');
        if (!signed) link.append(' ', el('span', { class: 'draft' }, 'draft'));
      } else {
        link.removeAttribute('href');
        link.setAttribute('aria-disabled', 'true');
      }
    }
    $('exports-note').textContent = !done
      ? 'The exports are available once the analysis is done.'
      : signed ? 'Signed-off exports: the reviewed figures and every decision.'
        : 'Drafts until the sample is signed off: they change with every decision.';
    const report = $('automatic-report');
    if (data.output) {
      report.href = filesURL(data.output);
      report.hidden = false;
    } else {
      report.hidden = true;
    }
  }

  // MARK: review grid

  const sections = {};
  for (const [kind, title] of [['parasitized', 'Parasitized calls'], ['uninfected', 'Doubtful uninfected']]) {
    const count = el('span', { class: 'section-count' }, '0');
    const container = el('div', { class: 'cells', role: 'list' });
    const heading = el('h3', null, `${title} (`, count, ')');
    const section = el('section', { class: 'grid-section', dataset: { kind } }, heading, container);
    sections[kind] = { section, container, count, start: 0, length: 0 };
  }
  const emptyNote = el('p', { class: 'empty-note' }, 'No cells to review yet.');

  function makeCell(cell) {
    const picture = cell.picture
      ? el('img', { src: filesURL(cell.picture), alt: `Cell ${cell.object_id} of ${cell.field}`, loading: 'lazy', draggable: 'false' })
      : el('div', { class: 'no-picture' }, 'no picture');
    const yes = el('button', { type: 'button', class: 'decide yes', 'aria-label': 'Parasitized', title: 'Parasitized (Y)', 'aria-pressed': 'false' }, '✓');
    const no = el('button', { type: 'button', class: 'decide no', 'aria-label': 'Not parasitized', title: 'Not parasitized (N)', 'aria-pressed': 'false' }, '✗');
    const view = el('button', { type: 'button', class: 'view', 'aria-label': 'Show in the field', title: 'Show in the field (Enter)' }, '⤢');
    if (locked) { yes.disabled = true; no.disabled = true; }
    const node = el('div', { class: 'cell', role: 'listitem', dataset: { cellId: cell.id, decision: '', class: cell.class || '' } },
      el('div', { class: 'cell-picture' }, picture),
      el('div', { class: 'cell-meta' },
        el('span', { class: 'p' }, `p = ${probability(cell.p_parasitized)}`),
        el('span', { class: 'call' }, `machine: ${cell.class === 'parasitized' ? 'parasitized' : 'uninfected'}`)),
      el('div', { class: 'cell-state' }, 'not reviewed'),
      el('div', { class: 'cell-actions' }, yes, no, view));
    node.title = `${cell.field}, cell ${cell.object_id}`;
    return node;
  }

  function applyState(node, cell) {
    const decision = cell.decision || '';
    node.dataset.decision = decision;
    node.dataset.class = cell.class || '';
    const confirmed = decision && decision === cell.class;
    const rejected = decision && decision !== cell.class;
    node.classList.toggle('confirmed', Boolean(confirmed));
    node.classList.toggle('rejected', Boolean(rejected));
    const state = node.querySelector('.cell-state');
    if (!decision) state.textContent = 'not reviewed';
    else if (confirmed) state.textContent = '✓ confirmed';
    else state.textContent = decision === 'uninfected' ? '✗ rejected: not parasitized' : '✗ rejected: parasitized';
    state.title = decision ? `${decision} by ${cell.reviewer || '?'}${cell.reviewed_at ? ` at ${dateTime(cell.reviewed_at)}` : ''}` : '';
    node.querySelector('.decide.yes').setAttribute('aria-pressed', String(decision === 'parasitized'));
    node.querySelector('.decide.no').setAttribute('aria-pressed', String(decision === 'uninfected'));
  }

  async function loadCells() {
    const started = performance.now();
    try {
      const list = await api('GET', `/api/samples/${sampleId}/cells`);
      updateGrid(list, started);
    } catch (e) {
      notify(`Cannot load the cells to review: ${e.message}`, 'error');
    }
  }

  /** Puts the review list in the grid, reusing the elements of cells already shown. */
  function updateGrid(list, fetchStarted) {
    const keepId = current >= 0 && userMoved ? cells[current]?.id : undefined;
    for (const cell of list) {
      const local = localDecisions.get(cell.id);
      if (local && local.time > fetchStarted) Object.assign(cell, local.values);
    }
    const seen = new Set(list.map((c) => c.id));
    for (const [id, node] of nodes) {
      if (!seen.has(id)) { node.remove(); nodes.delete(id); }
    }
    cells = list;
    indexById.clear();
    const groups = { parasitized: [], uninfected: [] };
    list.forEach((cell, i) => {
      indexById.set(cell.id, i);
      let node = nodes.get(cell.id);
      if (!node) { node = makeCell(cell); nodes.set(cell.id, node); }
      applyState(node, cell);
      node.classList.remove('current');
      (cell.class === 'parasitized' ? groups.parasitized : groups.uninfected).push(node);
    });
    // Machine order: parasitized calls first, then doubtful uninfected (as the API gives them).
    let start = 0;
    for (const kind of ['parasitized', 'uninfected']) {
      const s = sections[kind];
      s.container.replaceChildren(...groups[kind]);
      s.count.textContent = String(groups[kind].length);
      s.start = start;
      s.length = groups[kind].length;
      start += groups[kind].length;
    }
    if (!grid.contains(sections.parasitized.section)) grid.replaceChildren(sections.parasitized.section, sections.uninfected.section, emptyNote);
    emptyNote.hidden = list.length > 0;
    emptyNote.textContent = detail?.analysis ? (['queued', 'running'].includes(detail.analysis.status)
      ? 'Cells to review appear here as fields are analysed.' : 'No cell was called parasitized or doubtful.') : 'Not analysed yet.';
    sections.uninfected.section.hidden = groups.uninfected.length === 0 && groups.parasitized.length === 0;
    sections.parasitized.section.hidden = list.length === 0;
    current = -1;
    const keep = keepId !== undefined ? indexById.get(keepId) : undefined;
    if (list.length) setCurrent(keep !== undefined ? keep : 0, false, false);
    renderReviewCount();
  }

  function renderReviewCount() {
    const decided = cells.reduce((n, c) => n + (c.decision ? 1 : 0), 0);
    $('review-count').textContent = cells.length ? `${decided} of ${cells.length} reviewed` : '';
  }

  function setCurrent(index, scroll = true, byUser = true) {
    if (!cells.length) return;
    if (byUser) userMoved = true;
    index = Math.max(0, Math.min(cells.length - 1, index));
    if (index === current && nodes.get(cells[index].id)?.classList.contains('current')) return;
    if (current >= 0 && cells[current]) nodes.get(cells[current].id)?.classList.remove('current');
    current = index;
    const node = nodes.get(cells[current].id);
    node.classList.add('current');
    if (scroll) node.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    if (!viewer.hidden) showInViewer(cells[current]);
  }

  /** The section holding position `index` of the review list. */
  function sectionOf(index) {
    const p = sections.parasitized;
    return index < p.start + p.length ? p : sections.uninfected;
  }
  function columns(section) {
    const template = getComputedStyle(section.container).gridTemplateColumns;
    return Math.max(1, template && template !== 'none' ? template.trim().split(/\s+/).length : 1);
  }

  /** Moves by one row (`dir` = +1 down, −1 up), crossing from one section into the other. */
  function moveRow(dir) {
    if (current < 0) return;
    const s = sectionOf(current);
    const cols = columns(s);
    const pos = current - s.start;
    const col = pos % cols;
    if (dir > 0) {
      if (pos + cols < s.length) return setCurrent(current + cols);
      const lastRow = Math.floor((s.length - 1) / cols);
      if (Math.floor(pos / cols) < lastRow) return setCurrent(s.start + s.length - 1);  // a partial row below
      const next = s === sections.parasitized ? sections.uninfected : null;
      if (next && next.length) return setCurrent(next.start + Math.min(col, next.length - 1));
    } else {
      if (pos - cols >= 0) return setCurrent(current - cols);
      const prev = s === sections.uninfected ? sections.parasitized : null;
      if (prev && prev.length) {
        const pcols = columns(prev);
        const lastRowStart = Math.floor((prev.length - 1) / pcols) * pcols;
        return setCurrent(prev.start + Math.min(lastRowStart + Math.min(col, pcols - 1), prev.length - 1));
      }
    }
    return undefined;
  }

  // MARK: decisions

  let queue = Promise.resolve();
  let inFlight = 0;

  /** Decides on the cell at `index` now (the POST goes out in order after any earlier one). */
  function decide(index, decision) {
    const cell = cells[index];
    if (!cell) return false;
    if (locked) { notify('This sample is signed off: locked. Decisions can no longer change.', 'info'); return false; }
    const reviewer = reviewerName();
    if (!reviewer) return false;
    const node = nodes.get(cell.id);
    node.classList.add('pending');
    inFlight += 1;
    queue = queue.then(async () => {
      try {
        const response = await api('POST', `/api/cells/${cell.id}/reviews`, { decision, reviewer });
        const values = { decision: response.review.decision, reviewer: response.review.reviewer, reviewed_at: response.review.at };
        const now = performance.now();
        localDecisions.set(cell.id, { values, time: now });
        lastDecisionAt = now;
        // The list may have been refreshed meanwhile: update the cell as it is now.
        const i = indexById.get(cell.id);
        const target = i !== undefined ? cells[i] : cell;
        Object.assign(target, values);
        const n = nodes.get(cell.id);
        if (n) applyState(n, target);
        renderFigures(response.summary);
        renderReviewCount();
        appendAudit(response.review);
        if (!viewer.hidden && cells[current]?.id === cell.id) renderViewerTitle(cells[current]);
        clearErrorNotice();
      } catch (e) {
        notify(`Decision on cell ${cell.object_id} (${cell.field}) not saved: ${e.message}`, 'error');
        if (e.status === 409) load();
      } finally {
        nodes.get(cell.id)?.classList.remove('pending');
        inFlight -= 1;
        if (inFlight === 0) refreshAudit();
      }
    });
    return true;
  }

  function decideCurrent(decision) {
    if (current < 0) return;
    if (decide(current, decision)) {
      if (current < cells.length - 1) setCurrent(current + 1);
      else notify('That was the last cell of the list.');
    }
  }

  grid.addEventListener('click', (e) => {
    const node = e.target.closest('.cell');
    if (!node) return;
    const index = indexById.get(Number(node.dataset.cellId));
    if (index === undefined) return;
    setCurrent(index, false);
    const button = e.target.closest('button');
    if (!button) return;
    if (button.classList.contains('yes')) decide(index, 'parasitized');
    else if (button.classList.contains('no')) decide(index, 'uninfected');
    else if (button.classList.contains('view')) openViewer();
  });
  grid.addEventListener('dblclick', (e) => { if (e.target.closest('.cell') && !e.target.closest('button')) openViewer(); });

  // MARK: keyboard

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    if (isTyping(e.target)) return;
    const viewerOpen = !viewer.hidden;
    switch (e.key) {
      case 'Escape':
        if (viewerOpen) { e.preventDefault(); closeViewer(); }
        return;
      case 'ArrowRight':
        if (!cells.length) return;
        e.preventDefault(); setCurrent(current + 1); return;
      case 'ArrowLeft':
        if (!cells.length) return;
        e.preventDefault(); setCurrent(current - 1); return;
      case 'ArrowDown':
        if (!cells.length) return;
        e.preventDefault(); if (viewerOpen) setCurrent(current + 1); else moveRow(1); return;
      case 'ArrowUp':
        if (!cells.length) return;
        e.preventDefault(); if (viewerOpen) setCurrent(current - 1); else moveRow(-1); return;
      case 'y': case 'Y':
        if (!cells.length) return;
        e.preventDefault(); decideCurrent('parasitized'); return;
      case 'n': case 'N':
        if (!cells.length) return;
        e.preventDefault(); decideCurrent('uninfected'); return;
      case 'Enter': {
        if (viewerOpen || !cells.length) return;
        // Links and buttons outside the grid keep their own Enter.
        const t = e.target;
        if (t instanceof Element && t.closest('a, button, summary') && !t.closest('#review-grid')) return;
        e.preventDefault();
        openViewer();
        return;
      }
      default:
    }
  });

  // MARK: in-place viewer

  const viewport = $('viewer-stage-wrap');
  const stage = $('viewer-stage');
  const image = $('viewer-image');
  const box = $('viewer-box');
  const view = { z: 1, tx: 0, ty: 0, cell: null, field: null, fit: 0.1, userZoom: null };
  let returnFocus = null;

  function openViewer() {
    if (current < 0 || !cells[current]) return;
    returnFocus = document.activeElement;
    viewer.hidden = false;
    document.body.classList.add('viewer-open');
    view.userZoom = null;
    showInViewer(cells[current]);
    viewport.focus({ preventScroll: true });
  }

  function closeViewer() {
    viewer.hidden = true;
    document.body.classList.remove('viewer-open');
    if (returnFocus && document.contains(returnFocus) && returnFocus !== document.body) returnFocus.focus({ preventScroll: true });
    else if (document.activeElement && viewer.contains(document.activeElement)) document.activeElement.blur();
    if (current >= 0) nodes.get(cells[current]?.id)?.scrollIntoView({ block: 'nearest' });
  }

  function renderViewerTitle(cell) {
    const decision = !cell.decision ? ' · not reviewed' : cell.decision === cell.class ? ' · confirmed'
      : cell.decision === 'uninfected' ? ' · rejected: not parasitized' : ' · rejected: parasitized';
    $('viewer-title').textContent = `${cell.field}, cell ${cell.object_id} · p = ${probability(cell.p_parasitized)} · machine: ${cell.class}${decision}`;
    $('viewer-yes').setAttribute('aria-pressed', String(cell.decision === 'parasitized'));
    $('viewer-no').setAttribute('aria-pressed', String(cell.decision === 'uninfected'));
    $('viewer-yes').disabled = locked;
    $('viewer-no').disabled = locked;
  }

  function showInViewer(cell) {
    view.cell = cell;
    renderViewerTitle(cell);
    const field = fieldsById.get(cell.field_id) || null;
    view.field = field;
    const slideBlock = $('viewer-slide');
    viewer.classList.toggle('slide-mode', !(field && field.overlay));
    if (field && field.overlay) {
      viewport.hidden = false;
      slideBlock.hidden = true;
      const src = filesURL(field.overlay);
      if (image.getAttribute('src') !== src) {
        box.hidden = true;
        image.onload = () => { placeBox(); centreOnCell(); };
        image.onerror = () => notify(`Cannot load the annotated field ${field.name}.`, 'error');
        image.setAttribute('src', src);
        image.alt = `Annotated field ${field.name}`;
      } else if (image.complete && image.naturalWidth) {
        placeBox();
        centreOnCell();
      }
      return;
    }
    // A slide tile (no overlay picture): the full report's slide viewer shows it in place.
    viewport.hidden = true;
    slideBlock.hidden = false;
    const picture = $('viewer-cell');
    if (cell.picture) { picture.src = filesURL(cell.picture); picture.hidden = false; } else picture.hidden = true;
    const link = $('viewer-slide-link');
    const key = field ? detail?.slide_keys?.[field.input] : undefined;
    if (detail?.output && key) {
      link.href = `${filesURL(detail.output)}#slide=${encodeURIComponent(key)}&x=${Math.round(cell.centroid_x)}&y=${Math.round(cell.centroid_y)}&z=1`;
      link.hidden = false;
      $('viewer-slide-text').textContent = `This cell lies in the slide ${field.input}; the slide viewer opens in a new tab, centred on it.`;
    } else {
      link.hidden = true;
      link.removeAttribute('href');
      $('viewer-slide-text').textContent = detail?.output
        ? 'No slide view is available for this cell.'
        : 'The slide view appears here when the analysis is done.';
    }
  }

  /** The field's pixel scale in the overlay picture and the height of its header band. */
  function overlayGeometry() {
    const field = view.field;
    const s = image.naturalWidth / field.width;
    const band = Math.max(0, image.naturalHeight - field.height * s);
    return { s, band };
  }

  function placeBox() {
    const cell = view.cell;
    if (!view.field || !image.naturalWidth) return;
    const { s, band } = overlayGeometry();
    const pad = 4;
    box.style.left = `${cell.x * s - pad}px`;
    box.style.top = `${band + cell.y * s - pad}px`;
    box.style.width = `${cell.width * s + 2 * pad}px`;
    box.style.height = `${cell.height * s + 2 * pad}px`;
    box.hidden = false;
    stage.style.width = `${image.naturalWidth}px`;
    stage.style.height = `${image.naturalHeight}px`;
  }

  function centreOnCell() {
    if (!view.field || !image.naturalWidth) return;
    const w = viewport.clientWidth, h = viewport.clientHeight;
    view.fit = Math.min(w / image.naturalWidth, h / image.naturalHeight);
    const { s, band } = overlayGeometry();
    const cx = (view.cell.x + view.cell.width / 2) * s;
    const cy = band + (view.cell.y + view.cell.height / 2) * s;
    const z = view.userZoom ?? Math.min(4, Math.max(view.fit, Math.min(1.5, (Math.min(w, h) / 5) / Math.max(view.cell.width * s, view.cell.height * s, 1))));
    view.z = clampZoom(z);
    view.tx = w / 2 - cx * view.z;
    view.ty = h / 2 - cy * view.z;
    applyView();
  }

  const clampZoom = (z) => Math.max(Math.min(view.fit, 1) * 0.5, Math.min(12, z));

  function applyView() {
    stage.style.transform = `translate(${view.tx}px, ${view.ty}px) scale(${view.z})`;
    const line = Math.max(0.75, 4 / view.z);
    box.style.borderWidth = `${line}px`;
    box.style.outlineWidth = `${Math.max(0.5, 1.5 / view.z)}px`;
  }

  function zoomAt(px, py, factor) {
    const z = clampZoom(view.z * factor);
    view.tx = px - (px - view.tx) * (z / view.z);
    view.ty = py - (py - view.ty) * (z / view.z);
    view.z = z;
    view.userZoom = z;
    applyView();
  }

  viewport.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = viewport.getBoundingClientRect();
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    zoomAt(e.clientX - r.left, e.clientY - r.top, Math.exp(-delta * 0.0015));
  }, { passive: false });

  const pointers = new Map();
  let gesture = null;
  viewport.addEventListener('pointerdown', (e) => {
    viewport.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    startGesture();
  });
  function startGesture() {
    const pts = [...pointers.values()];
    if (pts.length === 1) gesture = { kind: 'pan', x: pts[0].x, y: pts[0].y, tx: view.tx, ty: view.ty };
    else if (pts.length >= 2) {
      const [a, b] = pts;
      gesture = { kind: 'pinch', d: Math.hypot(a.x - b.x, a.y - b.y) || 1, mx: (a.x + b.x) / 2, my: (a.y + b.y) / 2, z: view.z, tx: view.tx, ty: view.ty };
    }
    viewport.classList.toggle('grabbing', Boolean(gesture));
  }
  viewport.addEventListener('pointermove', (e) => {
    if (!pointers.has(e.pointerId) || !gesture) return;
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    const pts = [...pointers.values()];
    if (gesture.kind === 'pan' && pts.length === 1) {
      view.tx = gesture.tx + (pts[0].x - gesture.x);
      view.ty = gesture.ty + (pts[0].y - gesture.y);
      applyView();
    } else if (gesture.kind === 'pinch' && pts.length >= 2) {
      const [a, b] = pts;
      const r = viewport.getBoundingClientRect();
      const z = clampZoom(gesture.z * ((Math.hypot(a.x - b.x, a.y - b.y) || 1) / gesture.d));
      const mx = (a.x + b.x) / 2 - r.left, my = (a.y + b.y) / 2 - r.top;
      const ox = gesture.mx - r.left, oy = gesture.my - r.top;
      // Keep the image point under the pinch's starting middle under the current middle.
      view.tx = mx - (ox - gesture.tx) * (z / gesture.z);
      view.ty = my - (oy - gesture.ty) * (z / gesture.z);
      view.z = z;
      view.userZoom = z;
      applyView();
    }
  });
  function endPointer(e) {
    pointers.delete(e.pointerId);
    startGesture();
    if (!pointers.size) { gesture = null; viewport.classList.remove('grabbing'); }
  }
  viewport.addEventListener('pointerup', endPointer);
  viewport.addEventListener('pointercancel', endPointer);

  $('zoom-in').addEventListener('click', () => zoomAt(viewport.clientWidth / 2, viewport.clientHeight / 2, 1.5));
  $('zoom-out').addEventListener('click', () => zoomAt(viewport.clientWidth / 2, viewport.clientHeight / 2, 1 / 1.5));
  $('zoom-cell').addEventListener('click', () => { view.userZoom = null; centreOnCell(); });
  $('viewer-close').addEventListener('click', closeViewer);
  $('viewer-yes').addEventListener('click', () => decide(current, 'parasitized'));
  $('viewer-no').addEventListener('click', () => decide(current, 'uninfected'));
  viewer.addEventListener('click', (e) => { if (e.target === viewer) closeViewer(); });
  window.addEventListener('resize', () => { if (!viewer.hidden && view.field?.overlay) centreOnCell(); });

  // MARK: sign-off

  function lock() {
    if (locked) return;
    locked = true;
    grid.classList.add('locked');
    for (const button of grid.querySelectorAll('button.decide')) button.disabled = true;
    $('viewer-yes').disabled = true;
    $('viewer-no').disabled = true;
  }

  $('signoff').addEventListener('click', async () => {
    if (locked) { notify('This sample is signed off: locked.'); return; }
    const reviewer = reviewerName();
    if (!reviewer) return;
    if (detail?.analysis?.status !== 'done') { notify('The sample can be signed off once its analysis is done.', 'error'); return; }
    const figures = detail.summary?.reviewed;
    const question = `Sign off “${detail.sample.name}” as ${reviewer}?\n\n`
      + `Reviewed parasitemia: ${percent($('reviewed').dataset.percent || figures?.parasitemia_percent)}`
      + ` (${$('reviewed').dataset.parasitized || figures?.parasitized} of ${figures?.cells_counted} cells).\n\n`
      + 'The review is then locked: no decision can be added or changed.';
    if (!window.confirm(question)) return;
    $('signoff').disabled = true;
    try {
      // Let decisions still on their way reach the server first.
      await queue;
      const result = await api('POST', `/api/samples/${sampleId}/signoff`, { reviewer });
      const signed = $('signed');
      signed.textContent = `Signed off by ${result.reviewer} at ${dateTime(result.at)}`;
      signed.title = result.at;
      signed.hidden = false;
      lock();
      notify('Signed off. The review is locked and the exports are final.');
      await load();
    } catch (e) {
      notify(`Cannot sign off: ${e.message}`, 'error');
      $('signoff').disabled = false;
      if (e.status === 409) load();
    }
  });

  // MARK: audit trail

  const auditBody = $('audit').tBodies[0];
  function auditRow(r) {
    const changed = r.decision !== r.machine;
    return el('tr', { class: changed ? 'changed' : '', dataset: { reviewId: r.id, cellId: r.cell_id } },
      el('td', { title: r.at }, dateTime(r.at, true)),
      el('td', null, r.reviewer),
      el('td', null, r.field),
      el('td', { class: 'num' }, String(r.object_id)),
      el('td', null, `${r.machine}${r.p_parasitized === null || r.p_parasitized === undefined ? '' : ` (p = ${probability(r.p_parasitized)})`}`),
      el('td', null, el('span', { class: changed ? 'decision changed' : 'decision same' }, changed ? `${r.decision} (changed)` : r.decision)));
  }
  function renderAudit(rows) {
    auditBody.replaceChildren(...(rows.length ? rows.map(auditRow) : [el('tr', { class: 'empty' }, el('td', { colspan: 6 }, 'No decisions yet.'))]));
  }
  function appendAudit(review) {
    auditBody.querySelector('tr.empty')?.remove();
    if (!auditBody.querySelector(`tr[data-review-id="${review.id}"]`)) auditBody.append(auditRow(review));
  }
  async function loadAudit() {
    try {
      renderAudit(await api('GET', `/api/samples/${sampleId}/audit`));
    } catch (e) {
      notify(`Cannot load the audit trail: ${e.message}`, 'error');
    }
  }
  const refreshAudit = debounce(loadAudit, 400);

  // MARK: start

  if (!Number.isInteger(sampleId) || sampleId <= 0) {
    showError($('load-error'), 'This address names no sample.');
    return;
  }
  grid.replaceChildren(sections.parasitized.section, sections.uninfected.section, emptyNote);
  sections.parasitized.section.hidden = true;
  sections.uninfected.section.hidden = true;
  load();
  loadAudit();
})();
