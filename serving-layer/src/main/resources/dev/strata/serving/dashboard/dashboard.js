// The Strata dashboard: polls the serving API (If-None-Match through the browser cache: the API
// answers 304 while nothing changed) and draws each view's merged series, with the cut on the
// time axis: left of it the batch snapshot, right of it the speed views.
'use strict';

const POLL_MS = 2000;
const MAX_GROUPS = 8;
const COLORS = ['#3c6eb4', '#d9822b', '#2e9e6b', '#b2404f', '#7a5cb8', '#8c6d31', '#1f9bb4', '#c45ab3'];
const charts = new Map();
const state = { views: {}, cutMillis: 0 };
window.strataDashboard = state; // read by the browser test

function token() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) localStorage.setItem('strataToken', fromHash);
  return localStorage.getItem('strataToken');
}

async function api(path) {
  const headers = {};
  const t = token();
  if (t) headers['Authorization'] = 'Bearer ' + t;
  const response = await fetch(path, { headers, cache: 'no-cache' });
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || response.status);
  return body;
}

function ago(ms) {
  if (ms < 1000) return ms + ' ms';
  if (ms < 120000) return Math.round(ms / 1000) + ' s';
  return Math.round(ms / 60000) + ' min';
}

function windowMillis(iso) {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso) || [];
  return ((+m[1] || 0) * 3600 + (+m[2] || 0) * 60 + (+m[3] || 0)) * 1000 || 60000;
}

// Shades the batch side (before the cut) and draws the cut as a line.
const cutPlugin = {
  id: 'cut',
  beforeDatasetsDraw(chart) {
    const x = chart.scales.x;
    const area = chart.chartArea;
    const cut = state.cutMillis;
    if (!cut || cut < x.min) return;
    const px = Math.min(x.getPixelForValue(cut), area.right);
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = 'rgba(60, 110, 180, 0.10)';
    ctx.fillRect(area.left, area.top, px - area.left, area.bottom - area.top);
    if (cut <= x.max) {
      ctx.strokeStyle = 'rgba(60, 110, 180, 0.9)';
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = 'rgba(40, 80, 140, 1)';
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillText('cut', px + 4, area.top + 12);
    }
    ctx.restore();
  },
};

function chartFor(view) {
  if (charts.has(view.name)) return charts.get(view.name);
  const section = document.createElement('section');
  section.className = 'view';
  section.id = 'view-' + view.name;
  section.innerHTML = `<h2></h2><div class="meta"></div><div class="chart"><canvas></canvas></div>`;
  section.querySelector('h2').textContent = view.name;
  section.querySelector('.meta').textContent = `window ${view.window} · grouped by ${view.groupBy.join(', ') || '—'} · `
      + `measures ${view.measures.join(', ')} · showing count per window`;
  document.getElementById('views').appendChild(section);
  const chart = new Chart(section.querySelector('canvas'), {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: { type: 'linear', ticks: { callback: (v) => new Date(v).toISOString().slice(11, 16), maxTicksLimit: 12 } },
        y: { beginAtZero: true, title: { display: true, text: 'count' } },
      },
      plugins: { legend: { position: 'right' } },
    },
    plugins: [cutPlugin],
  });
  charts.set(view.name, chart);
  return chart;
}

async function refreshView(view) {
  const width = windowMillis(view.window);
  const span = width <= 60000 ? 3600000 : 24 * 3600000;
  const to = Math.floor(Date.now() / width) * width + width;
  const series = await api(`/v1/views/${encodeURIComponent(view.name)}?from=${to - span}&to=${to}`);
  const byGroup = new Map();
  for (const p of series.points) {
    const key = p.group.join(' / ') || 'all';
    if (!byGroup.has(key)) byGroup.set(key, []);
    byGroup.get(key).push({ x: p.startMillis, y: p.measures.count });
  }
  const groups = [...byGroup.entries()]
      .map(([name, data]) => ({ name, data, total: data.reduce((s, d) => s + d.y, 0) }))
      .sort((a, b) => b.total - a.total)
      .slice(0, MAX_GROUPS);
  const chart = chartFor(view);
  chart.options.scales.x.min = to - span;
  chart.options.scales.x.max = to;
  chart.data.datasets = groups.map((g, i) => ({
    label: g.name, data: g.data, borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length],
    pointRadius: 1.5, borderWidth: 1.5,
  }));
  chart.update();
  state.views[view.name] = { points: series.points.length, groups: groups.length };
}

async function refresh() {
  try {
    const views = await api('/v1/views');
    state.cutMillis = views.cutMillis;
    const speed = views.speed;
    const batch = views.batch ? `batch run ${views.batch.run}, cut ${views.cut}` : 'no batch snapshot yet (everything is speed)';
    const fresh = speed.newestUpdate ? `newest speed update ${ago(speed.ageMs)} ago` : 'no speed update yet';
    document.getElementById('freshness').textContent = `${batch} · ${fresh} · speed store ${speed.state}`;
    for (const view of views.views) {
      await refreshView(view);
    }
    document.getElementById('error').hidden = true;
    document.body.dataset.state = 'ok';
  } catch (e) {
    const error = document.getElementById('error');
    error.textContent = 'The serving API did not answer: ' + e.message;
    error.hidden = false;
    document.body.dataset.state = 'error';
  }
}

refresh();
setInterval(refresh, POLL_MS);
