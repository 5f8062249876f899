// smear web app, the "Check a cell" page (`/check`): classify one cell picture and show its Grad-CAM.
'use strict';

(() => {
  const { api, el, showError, dropZone } = Smear;
  const $ = (id) => document.getElementById(id);

  const input = $('cell-file');
  const picture = $('cell-picture');
  const heatmap = $('heatmap');
  const result = $('result');
  const error = $('check-error');
  const status = $('check-status');
  let pictureURL = null;
  let seq = 0;

  async function check(file) {
    if (!file) return;
    const n = ++seq;
    showError(error, '');
    result.replaceChildren();
    delete result.dataset.predicted;
    heatmap.hidden = true;
    heatmap.removeAttribute('src');
    if (pictureURL) URL.revokeObjectURL(pictureURL);
    pictureURL = URL.createObjectURL(file);
    picture.src = pictureURL;
    picture.hidden = false;
    status.textContent = `Classifying ${file.name}…`;
    try {
      const answer = await api('POST', '/api/classify', file);
      if (n !== seq) return;
      status.textContent = file.name;
      const classes = Object.entries(answer.probabilities || {}).sort((a, b) => b[1] - a[1]);
      result.dataset.predicted = answer.predicted;
      result.replaceChildren(
        el('p', { class: `verdict ${String(answer.predicted).toLowerCase() === 'parasitized' ? 'positive' : 'negative'}` },
          `${String(answer.predicted).toLowerCase()}, p = ${Number(answer.probability).toFixed(3)}`),
        el('table', { class: 'data probabilities' },
          el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Class'), el('th', { scope: 'col', class: 'num' }, 'Probability'))),
          el('tbody', null, ...classes.map(([name, p]) => el('tr', { class: name === answer.predicted ? 'predicted' : '' },
            el('td', null, name.toLowerCase()),
            el('td', { class: 'num' }, Number(p).toFixed(3), ' ',
              (() => { const bar = el('span', { class: 'bar' }); bar.style.width = `${Math.round(p * 60)}px`; return bar; })()))))));
      if (answer.heatmap) {
        heatmap.src = answer.heatmap;
        heatmap.hidden = false;
      }
    } catch (e) {
      if (n !== seq) return;
      status.textContent = '';
      showError(error, `${file.name}: ${e.message}`);
    }
  }

  input.addEventListener('change', () => {
    check(input.files[0]);
    input.value = '';
  });
  dropZone($('cell-drop'), (files) => {
    check(files[0]);
    if (files.length > 1) status.textContent = `Dropped ${files.length} pictures: checking only the first, ${files[0].name}.`;
  });
})();
