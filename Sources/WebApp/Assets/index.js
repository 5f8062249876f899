// smear web app, the samples page (`/`): create a sample (upload files or pick a data folder) and
// list earlier samples.
'use strict';

(() => {
  const { api, upload, el, showError, int, bytes, dateTime, debounce, dropZone } = Smear;
  const $ = (id) => document.getElementById(id);

  const form = $('new-sample');
  const nameInput = $('sample-name');
  const targetInput = $('target-cells');
  const fileInput = $('files');
  const drop = $('drop');
  const fileList = $('file-list');
  const formError = $('form-error');
  const formStatus = $('form-status');
  const startButton = $('start');
  const picker = $('folder-picker');

  const allowed = /\.(png|jpe?g|tiff?|svs|ndpi)$/i;
  /** The files to upload, in order: {file, row, bar}. */
  let chosen = [];
  /** The folder picked under the data folder (relative path), or null. */
  let folder = null;
  /** The folder the picker shows. */
  let browsing = { path: '', images: 0 };
  /** A sample created by a submission that failed part-way, to finish on the next try. */
  let pending = null;
  let busy = false;

  // MARK: files

  function addFiles(list) {
    const refused = [];
    for (const file of Array.from(list)) {
      if (!allowed.test(file.name)) { refused.push(file.name); continue; }
      if (chosen.some((c) => c.file.name === file.name)) continue;
      chosen.push({ file, row: null, bar: null, done: false });
    }
    if (chosen.length && folder) clearFolder();
    renderFiles();
    showError(formError, refused.length
      ? `Not an image or slide file (PNG, JPEG, TIFF, SVS, NDPI): ${refused.join(', ')}`
      : '');
  }

  function renderFiles() {
    fileList.replaceChildren();
    const total = chosen.reduce((sum, c) => sum + c.file.size, 0);
    for (const entry of chosen) {
      const bar = el('progress', { class: 'file-progress', max: 1, value: entry.done ? 1 : 0, 'aria-label': `Upload of ${entry.file.name}` });
      bar.hidden = !entry.done;
      const remove = el('button', { type: 'button', class: 'link-button remove', 'aria-label': `Remove ${entry.file.name}` }, 'Remove');
      remove.addEventListener('click', () => {
        if (busy) return;
        chosen = chosen.filter((c) => c !== entry);
        renderFiles();
      });
      const row = el('li', { class: 'file-row' },
        el('span', { class: 'file-name' }, entry.file.name),
        el('span', { class: 'file-size' }, bytes(entry.file.size)),
        bar,
        el('span', { class: 'file-state' }, entry.done ? 'uploaded' : ''),
        entry.done ? el('span', { class: 'remove' }) : remove);
      entry.row = row;
      entry.bar = bar;
      fileList.append(row);
    }
    if (chosen.length) {
      fileList.append(el('li', { class: 'file-total hint' }, `${chosen.length} file${chosen.length === 1 ? '' : 's'}, ${bytes(total)}`));
    }
    drop.classList.toggle('has-files', chosen.length > 0);
  }

  fileInput.addEventListener('change', () => {
    addFiles(fileInput.files);
    fileInput.value = '';
  });
  dropZone(drop, addFiles);

  // MARK: folder picker

  async function browse(path) {
    const list = $('folder-list');
    try {
      const listing = await api('GET', `/api/folders?path=${encodeURIComponent(path)}`);
      browsing = listing;
      $('folder-path').textContent = '/' + listing.path;
      $('folder-count').textContent = `${listing.images} image${listing.images === 1 ? '' : 's'} here`;
      $('use-folder').disabled = listing.images === 0;
      $('use-folder').textContent = listing.images ? `Use this folder (${listing.images} image${listing.images === 1 ? '' : 's'})` : 'Use this folder';
      list.replaceChildren();
      if (listing.path) {
        const up = listing.path.includes('/') ? listing.path.slice(0, listing.path.lastIndexOf('/')) : '';
        list.append(el('li', null, el('button', { type: 'button', class: 'folder-item up', dataset: { path: up } }, '↑ Up')));
      }
      for (const name of listing.folders) {
        const child = listing.path ? `${listing.path}/${name}` : name;
        list.append(el('li', null, el('button', { type: 'button', class: 'folder-item', dataset: { path: child } }, `📁 ${name}`)));
      }
      if (!listing.folders.length && !listing.path) list.append(el('li', { class: 'hint' }, 'The data folder has no sub-folders. Copy a folder of images into it to use it here.'));
      showError(formError, '');
    } catch (e) {
      showError(formError, `Cannot list the folder: ${e.message}`);
    }
  }

  $('folder-list').addEventListener('click', (e) => {
    const button = e.target.closest('.folder-item');
    if (button) browse(button.dataset.path);
  });
  picker.addEventListener('toggle', () => { if (picker.open) browse(browsing.path || ''); });

  $('use-folder').addEventListener('click', () => {
    if (!browsing.images) return;
    folder = browsing.path;
    chosen = [];
    renderFiles();
    $('folder-chosen-text').textContent = `Using the folder /${folder} (${browsing.images} image${browsing.images === 1 ? '' : 's'}); nothing is uploaded.`;
    $('folder-chosen').hidden = false;
    $('folder').dataset.chosen = folder;
    drop.classList.add('muted');
    picker.open = false;
  });

  function clearFolder() {
    folder = null;
    delete $('folder').dataset.chosen;
    $('folder-chosen').hidden = true;
    drop.classList.remove('muted');
  }
  $('clear-folder').addEventListener('click', clearFolder);

  // MARK: submit

  function setBusy(on, text) {
    busy = on;
    startButton.disabled = on;
    form.classList.toggle('busy', on);
    formStatus.textContent = text || '';
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    showError(formError, '');
    const name = nameInput.value.trim();
    if (!name) { showError(formError, 'Give the sample a name.'); nameInput.focus(); return; }
    let target = null;
    if (targetInput.value.trim() !== '') {
      target = Number(targetInput.value);
      if (!Number.isInteger(target) || target < 1 || target > 10000000) {
        showError(formError, 'Cells to count must be a whole number from 1 to 10,000,000 (or empty to count every cell).');
        targetInput.focus();
        return;
      }
    }
    if (!folder && !chosen.length) {
      showError(formError, 'Add field pictures or a slide, or pick a folder in the data folder.');
      return;
    }

    try {
      let id;
      if (pending && !folder && pending.name === name && pending.target === target) {
        id = pending.id;  // finish the sample a failed attempt created
      } else {
        setBusy(true, 'Creating the sample…');
        for (const c of chosen) c.done = false;  // a new sample has none of the files yet
        renderFiles();
        const body = { name };
        if (target !== null) body.target_cells = target;
        if (folder) body.folder = folder;
        id = (await api('POST', '/api/samples', body)).id;
        pending = folder ? null : { id, name, target };
      }
      if (!folder) {
        const todo = chosen.filter((c) => !c.done);
        let n = 0;
        for (const entry of todo) {
          n += 1;
          setBusy(true, `Uploading ${n} of ${todo.length}: ${entry.file.name}…`);
          entry.bar.hidden = false;
          entry.row.classList.add('uploading');
          entry.row.querySelector('.file-state').textContent = '0 %';
          try {
            await upload(`/api/samples/${id}/files/${encodeURIComponent(entry.file.name)}`, entry.file, (f) => {
              entry.bar.value = f;
              entry.row.querySelector('.file-state').textContent = `${Math.round(f * 100)} %`;
            });
          } catch (err) {
            entry.row.classList.remove('uploading');
            entry.row.classList.add('failed');
            entry.bar.hidden = true;
            entry.row.querySelector('.file-state').textContent = 'refused';
            const line = err.message.startsWith(entry.file.name) ? err.message : `${entry.file.name}: ${err.message}`;
            throw new Error(`${line} — remove it, then press Start analysis again (files already uploaded are kept).`);
          }
          entry.done = true;
          entry.bar.value = 1;
          entry.row.classList.remove('uploading');
          entry.row.classList.add('done');
          entry.row.querySelector('.file-state').textContent = 'uploaded';
        }
      }
      setBusy(true, 'Starting the analysis…');
      await api('POST', `/api/samples/${id}/analyses`, {});
      pending = null;
      setBusy(true, 'Opening the sample…');
      window.location.assign(`/samples/${id}`);
    } catch (err) {
      setBusy(false, '');
      showError(formError, err.message);
      loadSamples();
    }
  });

  // MARK: samples list

  const tbody = $('samples').tBodies[0];
  const searchInput = $('search');
  const fromInput = $('from');
  const toInput = $('to');
  let listSeq = 0;
  let refreshTimer = 0;

  function statusBadge(sample) {
    const status = sample.status || 'not analysed';
    const badge = el('span', { class: `badge status-${sample.status || 'none'}` }, status);
    return sample.error ? el('span', { title: sample.error }, badge, ' ', el('span', { class: 'hint' }, sample.error)) : badge;
  }

  function progressCell(sample) {
    if (!sample.status) return '';
    const total = sample.total || 0;
    const done = sample.done || 0;
    if (!total) return sample.status === 'queued' ? 'waiting' : '';
    const bar = el('progress', { max: total, value: done, 'aria-label': `${done} of ${total}` });
    return el('span', { class: 'progress-cell' }, bar, ` ${int(done)} of ${int(total)}`);
  }

  function renderSamples(samples) {
    tbody.replaceChildren();
    if (!samples.length) {
      const filtered = searchInput.value.trim() || fromInput.value || toInput.value;
      tbody.append(el('tr', { class: 'empty' }, el('td', { colspan: 5 }, filtered ? 'No sample matches.' : 'No samples yet: start one above.')));
      return;
    }
    for (const s of samples) {
      tbody.append(el('tr', { dataset: { sampleId: s.id, status: s.status || '' } },
        el('td', null, el('a', { class: 'sample-link', href: `/samples/${s.id}` }, s.name)),
        el('td', { class: 'created', title: s.created_at }, dateTime(s.created_at)),
        el('td', null, statusBadge(s)),
        el('td', null, progressCell(s)),
        el('td', null, s.signed_off_by ? el('span', { title: dateTime(s.signed_off_at) }, s.signed_off_by) : el('span', { class: 'hint' }, '—'))));
    }
  }

  async function loadSamples() {
    clearTimeout(refreshTimer);
    const seq = ++listSeq;
    const params = new URLSearchParams();
    if (searchInput.value.trim()) params.set('q', searchInput.value.trim());
    // The days are the user's own: their local midnights go to the server as instants (to: the next one).
    const midnight = (day, after) => { const d = new Date(`${day}T00:00:00`); if (after) d.setDate(d.getDate() + 1); return d.toISOString(); };
    if (fromInput.value) params.set('from', midnight(fromInput.value, false));
    if (toInput.value) params.set('to', midnight(toInput.value, true));
    const query = params.toString();
    try {
      const samples = await api('GET', '/api/samples' + (query ? `?${query}` : ''));
      if (seq !== listSeq) return;
      showError($('list-error'), '');
      renderSamples(samples);
      if (samples.some((s) => s.status === 'queued' || s.status === 'running')) refreshTimer = setTimeout(loadSamples, 3000);
    } catch (e) {
      if (seq !== listSeq) return;
      showError($('list-error'), `Cannot load the samples: ${e.message}`);
      refreshTimer = setTimeout(loadSamples, 3000);
    }
  }

  searchInput.addEventListener('input', debounce(loadSamples, 200));
  fromInput.addEventListener('change', loadSamples);
  toInput.addEventListener('change', loadSamples);

  renderFiles();
  loadSamples();
})();
