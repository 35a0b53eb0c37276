// The operator's view: asks for an admin key (kept in sessionStorage, so for this tab only),
// reads GET /api/v1/stats and GET /api/v1/usage from this gateway, and draws them with Chart.js
// (served from /admin/chart.js/, copied from node_modules at build). A separate file rather than
// an inline script, so the page's Content-Security-Policy (set in src/routes/pages.ts) can refuse inline code.
'use strict';

const KEY_STORAGE = 'lyrics-gateway.admin-key';
const REFRESH_MS = 60_000;
const STATUS_COLOURS = {
  SUCCESS: '#2e7d32',
  PENDING: '#9e9e9e',
  GENERATE_LYRICS_FAILED: '#c62828',
  SENSITIVE_WORD_ERROR: '#ef6c00',
  CREATE_TASK_FAILED: '#6a1b9a',
  CALLBACK_EXCEPTION: '#ad1457',
};
const SOURCE_COLOURS = { callback: '#1565c0', poll: '#f9a825', timeout: '#c62828' };
const DELIVERY_COLOURS = { pending: '#9e9e9e', delivered: '#2e7d32', failed: '#c62828' };

const $ = (id) => document.getElementById(id);
const charts = {};
let refreshTimer;

function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

function showMessage(text, kind = 'error') {
  const message = $('message');
  message.textContent = text;
  message.className = `message ${kind}`;
  message.hidden = !text;
}

/** GET an /api path with the key; resolves to {status, body} whatever the status. */
async function apiGet(path, key) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${key}` }, cache: 'no-store' });
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: say so below
  }
  return { status: response.status, body };
}

/** What to tell the operator when the stats were refused, in words they can act on. */
function refusal(status, body) {
  const detail = body && typeof body.msg === 'string' ? ` (the gateway says: ${body.msg})` : '';
  if (status === 401) return `This key was not accepted. Check that it is one of the gateway's ADMIN_API_KEYS${detail}`;
  if (status === 403) return `This is a client key, not an admin key. The operator's view needs one of ADMIN_API_KEYS${detail}`;
  return `The gateway answered HTTP ${status} to GET /api/v1/stats${detail}. Try again in a moment.`;
}

async function load() {
  const key = storedKey();
  if (!key) return;
  const hours = $('hours').value;
  let stats;
  try {
    stats = await apiGet(`/api/v1/stats?hours=${encodeURIComponent(hours)}`, key);
  } catch {
    showMessage('The gateway could not be reached. Check that it is running, then press Show again.');
    return;
  }
  if (stats.status !== 200 || !stats.body || !stats.body.data) {
    if (stats.status === 401 || stats.status === 403) {
      sessionStorage.removeItem(KEY_STORAGE);
      clearInterval(refreshTimer);
      $('view').hidden = true;
    }
    showMessage(refusal(stats.status, stats.body));
    return;
  }
  const usage = await apiGet('/api/v1/usage', key).catch(() => ({ status: 0, body: null }));
  showMessage('');
  render(stats.body.data, usage.status === 200 && usage.body ? usage.body.data : null);
  $('view').hidden = false;
}

function figureValue(data, path) {
  if (path === 'tasks.failed') return failedCount(data);
  return path.split('.').reduce((value, part) => (value == null ? value : value[part]), data);
}

function failedCount(data) {
  return Object.entries(data.tasks.byStatus)
    .filter(([status]) => status !== 'SUCCESS' && status !== 'PENDING')
    .reduce((sum, [, count]) => sum + count, 0);
}

/** 1234 ms as "1.23 s", 95000 ms as "1 min 35 s"; the exact figure stays in data-value. */
function duration(ms) {
  if (ms == null) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** D1's size and its share of the largest database Cloudflare allows. */
function databaseUse(database) {
  if (!database) return '—';
  const gigabytes = (bytes) => `${(bytes / 1e9).toFixed(bytes < 1e9 ? 3 : 1)} GB`;
  return `${gigabytes(database.bytes)} (${((100 * database.bytes) / database.limitBytes).toFixed(1)}% of ${gigabytes(database.limitBytes)})`;
}

function time(ms, withDate) {
  const date = new Date(ms);
  return withDate
    ? date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function render(data, usage) {
  for (const element of document.querySelectorAll('[data-figure]')) {
    const value = figureValue(data, element.dataset.figure);
    element.dataset.value = value == null ? '' : String(value);
    element.textContent =
      element.dataset.unit === 'ms' ? duration(value) : element.dataset.unit === 'bytes' ? databaseUse(data.database) : value == null ? '—' : value.toLocaleString('en');
  }
  $('since').textContent = time(data.since, true);
  $('since').dateTime = new Date(data.since).toISOString();
  $('read-at').textContent = new Date().toLocaleTimeString();

  renderStatuses(data);
  renderSources(data);
  renderDeliveries(data);
  renderTenants(data, usage);
  renderFailures(data);
}

function drawChart(id, config) {
  charts[id]?.destroy();
  charts[id] = new Chart($(id), {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  });
}

function renderStatuses(data) {
  const statuses = Object.keys(data.tasks.byStatus);
  const long = data.hours > 48;
  drawChart('hourly-chart', {
    type: 'bar',
    data: {
      labels: data.hourly.map((hour) => time(hour.since, long)),
      datasets: statuses.map((status) => ({
        label: status,
        data: data.hourly.map((hour) => hour.byStatus[status]),
        backgroundColor: STATUS_COLOURS[status] ?? '#607d8b',
      })),
    },
    options: {
      scales: {
        x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
      },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12, filter: (item) => data.tasks.byStatus[item.text] > 0 } } },
    },
  });
  const rows = statuses.map((status) => {
    const row = document.createElement('tr');
    const name = document.createElement('td');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = STATUS_COLOURS[status] ?? '#607d8b';
    name.append(swatch, status);
    const count = document.createElement('td');
    count.dataset.status = status;
    count.textContent = data.tasks.byStatus[status].toLocaleString('en');
    row.append(name, count);
    return row;
  });
  $('status-rows').replaceChildren(...rows);
}

function renderSources(data) {
  const sources = data.tasks.bySource;
  const total = sources.callback + sources.poll + sources.timeout;
  for (const cell of document.querySelectorAll('[data-share]')) {
    cell.textContent = total ? `${Math.round((100 * sources[cell.dataset.share]) / total)} %` : '—';
  }
  const warning = $('source-warning');
  warning.hidden = !(total > 0 && sources.poll * 2 > total);
  warning.textContent =
    `Most results (${sources.poll} of ${total}) came by polling, not by callback: the upstream's callbacks are not ` +
    'reaching the gateway. Check that PUBLIC_URL is the gateway\'s public https origin, reachable from the internet, ' +
    'and look at the provider\'s side for failed callbacks. Until then every result waits for the poller.';
  drawChart('source-chart', {
    type: 'doughnut',
    data: {
      labels: ['callback', 'poll', 'timeout'],
      datasets: [{ data: [sources.callback, sources.poll, sources.timeout], backgroundColor: Object.values(SOURCE_COLOURS) }],
    },
    options: { plugins: { legend: { position: 'right', labels: { boxWidth: 12 } } } },
  });
}

function renderDeliveries(data) {
  const states = ['pending', 'delivered', 'failed'];
  drawChart('delivery-chart', {
    type: 'bar',
    data: {
      labels: ['deliveries'],
      datasets: states.map((state) => ({ label: state, data: [data.deliveries[state]], backgroundColor: DELIVERY_COLOURS[state] })),
    },
    options: {
      indexAxis: 'y',
      scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true, display: false } },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    },
  });
  const rows = data.failingHosts.map((host) => tableRow([host.host, host.failed, host.retried]));
  $('host-rows').replaceChildren(...(rows.length ? rows : [emptyRow(3, 'No delivery is failing.')]));
}

function renderTenants(data, usage) {
  const today = new Map((usage?.tenants ?? []).map((tenant) => [tenant.tenant, tenant]));
  const names = [...new Set([...data.tenants.map((tenant) => tenant.tenant), ...today.keys()])].sort();
  const inWindow = new Map(data.tenants.map((tenant) => [tenant.tenant, tenant]));
  const rows = names.map((name) => {
    const day = today.get(name);
    const quota = day ? day.quota : inWindow.get(name)?.quota ?? null;
    const meter = document.createElement('meter');
    if (day && quota) {
      meter.max = quota;
      meter.value = Math.min(day.creates, quota);
      meter.high = quota * 0.8;
      meter.optimum = 0;
      meter.title = `${day.creates} of ${quota}`;
    } else {
      meter.hidden = true;
    }
    const row = tableRow([name, day ? day.creates : '—', quota ?? 'none', meter, inWindow.get(name)?.creates ?? 0], [
      'Tenant', 'Today', 'Quota', 'Used', 'In window',
    ]);
    row.dataset.tenant = name;
    return row;
  });
  $('tenant-rows').replaceChildren(...(rows.length ? rows : [emptyRow(5, 'No tenant is configured.')]));
  $('usage-note').hidden = Boolean(usage);
  $('usage-note').textContent = 'Today\'s creates could not be read from GET /api/v1/usage.';
}

function renderFailures(data) {
  const rows = data.recentFailures.map((failure) => {
    const link = document.createElement('a');
    link.href = `/api/v1/lyrics/record-info?taskId=${encodeURIComponent(failure.taskId)}`;
    link.textContent = failure.taskId;
    link.className = 'task-link';
    link.addEventListener('click', (event) => {
      event.preventDefault();
      showRecord(failure.taskId, link.href);
    });
    const error = failure.errorMessage ?? '';
    return tableRow([time(failure.createTime, true), link, failure.status, failure.resultSource ?? '—', error], [
      'Created', 'Task', 'Status', 'Source', 'Error',
    ]);
  });
  $('failure-rows').replaceChildren(...(rows.length ? rows : [emptyRow(5, 'No task failed in this window.')]));
}

/** record-info needs the bearer key, which a plain link cannot send: fetched and shown here. */
async function showRecord(taskId, href) {
  const dialog = $('record-dialog');
  $('record-title').textContent = `record-info of ${taskId}`;
  $('record-body').textContent = 'Loading…';
  dialog.showModal();
  try {
    const { status, body } = await apiGet(href, storedKey());
    $('record-body').textContent = status === 200 ? JSON.stringify(body.data, null, 2) : `HTTP ${status}: ${body?.msg ?? ''}`;
  } catch {
    $('record-body').textContent = 'The gateway could not be reached.';
  }
}

/** A row of cells; each cell is labelled with its column's heading, shown above it on a phone. */
function tableRow(cells, headings = []) {
  const row = document.createElement('tr');
  for (const [index, cell] of cells.entries()) {
    const td = document.createElement('td');
    if (headings[index]) td.dataset.label = headings[index];
    if (cell instanceof Node) td.append(cell);
    else td.textContent = typeof cell === 'number' ? cell.toLocaleString('en') : String(cell);
    row.append(td);
  }
  return row;
}

function emptyRow(columns, text) {
  const row = document.createElement('tr');
  const cell = document.createElement('td');
  cell.colSpan = columns;
  cell.className = 'empty';
  cell.textContent = text;
  row.append(cell);
  return row;
}

function start() {
  clearInterval(refreshTimer);
  load();
  refreshTimer = setInterval(() => {
    if (document.visibilityState === 'visible') load();
  }, REFRESH_MS);
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('admin-key').value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  $('admin-key').value = '';
  $('admin-key').placeholder = 'key kept for this tab';
  start();
});
$('hours').addEventListener('change', () => storedKey() && start());
$('forget-key').addEventListener('click', () => {
  sessionStorage.removeItem(KEY_STORAGE);
  clearInterval(refreshTimer);
  $('view').hidden = true;
  $('admin-key').placeholder = 'one of ADMIN_API_KEYS';
  showMessage('The key is forgotten. Enter an admin key to see the figures.', 'info');
});

if (storedKey()) {
  $('admin-key').placeholder = 'key kept for this tab';
  start();
} else {
  showMessage('Enter an admin key (one of the gateway\'s ADMIN_API_KEYS) to see the figures.', 'info');
}
