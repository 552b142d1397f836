// The Eddy web console: tables (item counts, a paged item browser),
// streams and their shards, triggers (state, lag, counters, recent errors)
// refreshed live. No framework and no build step: plain DOM, and every value
// from the server goes in as text (never as HTML).
//
// Data comes only from the server's own APIs, exactly as any client gets
// it: the DynamoDB and DynamoDB Streams JSON API and the trigger admin API
// (EddyAdmin_20261126), each request SigV4-signed in this page. With an
// auth file the server authorizes every request by the signing identity's
// policy, so the console shows what that identity may see and the denial
// for the rest. Keys are entered by the user and kept in sessionStorage
// (this tab only). An anonymous server accepts any signature, so the page
// signs with placeholder keys until someone signs in.

import { sign, signingAvailable } from './sigv4.js';

const CREDENTIALS_KEY = 'eddy.console.credentials';
const ANONYMOUS = { accessKeyId: 'anonymous', secretAccessKey: 'anonymous' };
const PAGE_SIZE = 25;
const REFRESH_MS = { tables: 2000, streams: 5000, triggers: 1000 };
const AUTH_ERRORS = new Set([
  'UnrecognizedClientException', 'InvalidSignatureException',
  'IncompleteSignatureException', 'MissingAuthenticationTokenException']);

let region = 'us-east-1';
let refreshTimer = null;
let renderGeneration = 0;  // Bumped on every navigation: stale renders stop.

// ---- the API ----------------------------------------------------------------

class ApiError extends Error {
  constructor(type, message, status) {
    super(message || type);
    this.type = type;
    this.status = status;
  }
}

function storedCredentials() {
  try {
    const value = JSON.parse(sessionStorage.getItem(CREDENTIALS_KEY) || 'null');
    if (value && value.accessKeyId && value.secretAccessKey) return value;
  } catch (e) {
    sessionStorage.removeItem(CREDENTIALS_KEY);
  }
  return null;
}

async function call(target, request) {
  if (!signingAvailable()) {
    throw new ApiError('InsecureContext',
      'This page needs WebCrypto to sign requests: open it over HTTPS or on a ' +
      'loopback address (127.0.0.1, localhost).', 0);
  }
  const body = JSON.stringify(request);
  const headers = await sign({
    method: 'POST', host: location.host, path: '/', body, region,
    service: 'dynamodb', credentials: storedCredentials() || ANONYMOUS,
    headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': target },
  });
  let response;
  try {
    response = await fetch('/', { method: 'POST', headers, body, cache: 'no-store' });
  } catch (e) {
    throw new ApiError('NetworkError', `The server did not answer: ${e.message}`, 0);
  }
  const text = await response.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch (e) {
    throw new ApiError('BadResponse', `HTTP ${response.status}: ${text.slice(0, 200)}`,
                       response.status);
  }
  if (!response.ok) {
    const type = String(json.__type || `HTTP${response.status}`).split('#').pop();
    throw new ApiError(type, json.message || json.Message || '', response.status);
  }
  return json;
}

const dynamo = (op, request = {}) => call(`DynamoDB_20120810.${op}`, request);
const streams = (op, request = {}) => call(`DynamoDBStreams_20120810.${op}`, request);
const admin = (op, request = {}) => call(`EddyAdmin_20261126.${op}`, request);

async function listAll(fetchPage, itemsOf, nextOf, startMember) {
  const out = [];
  let start;
  do {
    const page = await fetchPage(start === undefined ? {} : { [startMember]: start });
    out.push(...(itemsOf(page) || []));
    start = nextOf(page);
  } while (start !== undefined);
  return out;
}

// ---- DOM helpers --------------------------------------------------------------

// el('td', {class: 'n', dataset: {x: 1}}, 'text', child...): children are
// nodes or strings (as text nodes).
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function errorBox(error, what) {
  const type = error instanceof ApiError ? error.type : 'Error';
  const box = el('div', { class: 'error', dataset: { errorType: type }, role: 'alert' },
    el('strong', {}, type), what ? ` (${what})` : '', ': ', error.message || '');
  if (AUTH_ERRORS.has(type)) {
    box.append(el('p', {}, storedCredentials()
      ? 'The server did not accept these keys. Sign in again with an identity of its auth file.'
      : 'This server requires credentials: sign in with an identity of its auth file.'));
  }
  return box;
}

function table(headers, rows, attrs = {}) {
  return el('table', attrs,
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
}

function formatCount(n) {
  return n === undefined || n === null ? '' : Number(n).toLocaleString('en-US');
}

function formatBytes(n) {
  if (n === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Number(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u += 1; }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

function formatAge(ms) {
  const v = Number(ms || 0);
  if (v < 1000) return `${v} ms`;
  if (v < 60000) return `${(v / 1000).toFixed(1)} s`;
  if (v < 3600000) return `${(v / 60000).toFixed(1)} min`;
  return `${(v / 3600000).toFixed(1)} h`;
}

function formatTime(ms) {
  return ms ? new Date(Number(ms)).toISOString().replace('T', ' ').replace('Z', ' UTC') : '';
}

// A DynamoDB attribute value as short text.
function formatValue(av) {
  if (!av || typeof av !== 'object') return '';
  const [type, v] = Object.entries(av)[0] || [];
  switch (type) {
    case 'S': return v;
    case 'N': return v;
    case 'B': return `<binary ${Math.floor((v.length * 3) / 4)} B>`;
    case 'BOOL': return v ? 'true' : 'false';
    case 'NULL': return 'null';
    case 'SS': case 'NS': return `{${v.join(', ')}}`;
    case 'BS': return `{${v.length} binary}`;
    case 'L': return `[${v.map(formatValue).join(', ')}]`;
    case 'M': return `{${Object.entries(v).map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ')}}`;
    default: return JSON.stringify(av);
  }
}

function truncate(text, n = 80) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

// ---- views ------------------------------------------------------------------

async function tablesView(view, generation) {
  const names = await listAll((r) => dynamo('ListTables', r), (p) => p.TableNames,
                              (p) => p.LastEvaluatedTableName, 'ExclusiveStartTableName');
  const described = await Promise.all(names.map((name) =>
    dynamo('DescribeTable', { TableName: name }).then((r) => r.Table, (e) => ({ TableName: name, error: e }))));
  if (generation !== renderGeneration) return;
  const rows = described.map((t) => {
    if (t.error) {
      return el('tr', { dataset: { table: t.TableName } },
        el('td', {}, el('a', { href: `#/tables/${encodeURIComponent(t.TableName)}` }, t.TableName)),
        el('td', { colspan: 5 }, errorBox(t.error, 'DescribeTable')));
    }
    const keys = (t.KeySchema || []).map((k) => `${k.AttributeName} (${k.KeyType === 'HASH' ? 'partition' : 'sort'})`);
    const stream = t.StreamSpecification && t.StreamSpecification.StreamEnabled
      ? t.StreamSpecification.StreamViewType : '—';
    return el('tr', { dataset: { table: t.TableName } },
      el('td', {}, el('a', { href: `#/tables/${encodeURIComponent(t.TableName)}` }, t.TableName)),
      el('td', { class: 'status' }, t.TableStatus),
      el('td', { class: 'num item-count' }, formatCount(t.ItemCount)),
      el('td', { class: 'num' }, formatBytes(t.TableSizeBytes)),
      el('td', {}, keys.join(', ')),
      el('td', { class: 'stream' }, stream));
  });
  view.replaceChildren(
    el('h2', {}, 'Tables ', el('span', { class: 'muted' }, `(${names.length})`)),
    names.length === 0 ? el('p', { class: 'empty' }, 'No tables yet.')
      : table(['Name', 'Status', 'Items', 'Size', 'Key', 'Stream'], rows, { id: 'tables' }));
}

// The item browser keeps its position while the user pages: the start key
// of every page seen so far.
const browser = { table: null, starts: [undefined], page: 0 };

async function tableView(view, generation, name) {
  if (browser.table !== name) Object.assign(browser, { table: name, starts: [undefined], page: 0 });
  const describe = dynamo('DescribeTable', { TableName: name }).then((r) => r.Table, (e) => ({ error: e }));
  const request = { TableName: name, Limit: PAGE_SIZE };
  const start = browser.starts[browser.page];
  if (start) request.ExclusiveStartKey = start;
  const scan = dynamo('Scan', request).catch((e) => ({ error: e }));
  const [info, page] = await Promise.all([describe, scan]);
  if (generation !== renderGeneration) return;

  const parts = [el('h2', {}, el('a', { href: '#/tables' }, 'Tables'), ' / ', name)];
  if (info.error) {
    parts.push(errorBox(info.error, 'DescribeTable'));
  } else {
    parts.push(el('p', { class: 'summary' },
      el('span', { class: 'item-count' }, formatCount(info.ItemCount)), ' items · ',
      formatBytes(info.TableSizeBytes), ' · ', info.TableStatus,
      info.LatestStreamArn ? ` · stream ${info.StreamSpecification.StreamViewType}` : ''));
  }
  const keyNames = (info.KeySchema || []).map((k) => k.AttributeName);
  if (page.error) {
    parts.push(errorBox(page.error, 'Scan'));
  } else {
    const items = page.Items || [];
    const columns = [...keyNames];
    for (const item of items) {
      for (const attr of Object.keys(item)) if (!columns.includes(attr)) columns.push(attr);
    }
    const detail = el('pre', { id: 'item-detail', hidden: true });
    const rows = items.map((item) => el('tr', {
      class: 'item', tabindex: 0,
      onclick: () => { detail.hidden = false; detail.textContent = JSON.stringify(item, null, 2); },
    }, columns.map((c) => {
      const text = c in item ? formatValue(item[c]) : '';
      return el('td', { title: text.length > 80 ? text : undefined, dataset: { attr: c } }, truncate(text));
    })));
    const first = browser.page * PAGE_SIZE + 1;
    const next = page.LastEvaluatedKey;
    parts.push(
      el('div', { class: 'pager' },
        el('button', { type: 'button', id: 'prev-page', disabled: browser.page === 0,
          onclick: () => { browser.page -= 1; render(); } }, '‹ Previous'),
        el('span', { id: 'page-range' }, items.length
          ? `Items ${first}–${first + items.length - 1}` : 'No items on this page'),
        el('button', { type: 'button', id: 'next-page', disabled: !next,
          onclick: () => {
            browser.starts[browser.page + 1] = next;
            browser.page += 1;
            render();
          } }, 'Next ›')),
      items.length ? table(columns, rows, { id: 'items' }) : el('p', { class: 'empty' }, 'No items.'),
      detail);
  }
  view.replaceChildren(...parts);
}

async function streamsView(view, generation) {
  const list = await listAll((r) => streams('ListStreams', r), (p) => p.Streams,
                             (p) => p.LastEvaluatedStreamArn, 'ExclusiveStartStreamArn');
  const described = await Promise.all(list.map(async (s) => {
    try {
      const shards = [];
      let description;
      let start;
      do {
        const request = { StreamArn: s.StreamArn };
        if (start) request.ExclusiveStartShardId = start;
        description = (await streams('DescribeStream', request)).StreamDescription;
        shards.push(...(description.Shards || []));
        start = description.LastEvaluatedShardId;
      } while (start);
      return { ...s, description, shards };
    } catch (e) {
      return { ...s, error: e };
    }
  }));
  if (generation !== renderGeneration) return;
  const sections = described.map((s) => {
    const head = el('h3', {}, s.TableName, ' ', el('span', { class: 'muted' }, s.StreamLabel));
    if (s.error) return el('section', { class: 'stream', dataset: { table: s.TableName } }, head, errorBox(s.error, 'DescribeStream'));
    const d = s.description;
    return el('section', { class: 'stream', dataset: { table: s.TableName, streamArn: s.StreamArn } },
      head,
      el('p', { class: 'summary' }, `${d.StreamStatus} · ${d.StreamViewType} · ${s.shards.length} shards · `,
        el('code', {}, s.StreamArn)),
      table(['Shard', 'Parent', 'First sequence number', 'Last sequence number'],
        s.shards.map((shard) => el('tr', { class: 'shard', dataset: { shardId: shard.ShardId } },
          el('td', {}, el('code', {}, shard.ShardId)),
          el('td', {}, shard.ParentShardId || '—'),
          el('td', { class: 'num' }, shard.SequenceNumberRange.StartingSequenceNumber || ''),
          el('td', { class: 'num' }, shard.SequenceNumberRange.EndingSequenceNumber || 'open')))));
  });
  view.replaceChildren(
    el('h2', {}, 'Streams ', el('span', { class: 'muted' }, `(${list.length})`)),
    ...(sections.length ? sections : [el('p', { class: 'empty' }, 'No streams: enable one on a table (StreamSpecification).')]));
}

function metric(label, value, cls) {
  return el('div', { class: `metric ${cls}` }, el('span', { class: 'label' }, label),
    el('span', { class: 'value' }, value));
}

async function triggersView(view, generation) {
  const { Triggers: triggers = [] } = await admin('ListTriggers');
  if (generation !== renderGeneration) return;
  const open = new Set([...view.querySelectorAll('details[open]')].map((d) => d.dataset.key));
  const cards = triggers.map((t) => {
    const m = t.Metrics || {};
    const errors = t.RecentErrors || [];
    return el('section', { class: 'trigger', dataset: { trigger: t.Name, state: t.State } },
      el('h3', {}, t.Name, ' ', el('span', { class: `state state-${t.State}` }, t.State)),
      el('p', { class: 'summary' }, 'table ', el('a', { href: `#/tables/${encodeURIComponent(t.TableName)}` }, t.TableName),
        ' · handler ', el('code', {}, t.Handler), ` · batch ${t.BatchSize}`,
        t.StateTransitionReason ? ` · ${t.StateTransitionReason}` : ''),
      el('div', { class: 'metrics' },
        metric('Lag', formatAge(m.IteratorAgeMs), 'lag'),
        metric('Pending', formatCount(m.PendingRecords), 'pending'),
        metric('Invocations', formatCount(m.Invocations), 'invocations'),
        metric('Records handled', formatCount(m.RecordsHandled), 'records-handled'),
        metric('Errors', formatCount(m.Errors), `errors${m.Errors ? ' bad' : ''}`),
        metric('Retries', formatCount(m.Retries), 'retries'),
        metric('Dead-lettered', formatCount(m.DeadLettered), `dead-lettered${m.DeadLettered ? ' bad' : ''}`),
        metric('Filtered', formatCount(m.Filtered), 'filtered')),
      errors.length === 0 ? el('p', { class: 'muted no-errors' }, 'No recent errors.')
        : el('div', {}, el('h4', {}, 'Recent errors'),
          el('ol', { class: 'recent-errors' }, errors.map((e) => el('li', {},
            el('span', { class: 'muted' }, `${formatTime(e.TimeMs)} · ${e.ShardId} · attempt ${e.Attempt}` +
              (e.Records ? ` · ${e.Records} records` : '')), ' ',
            el('strong', { class: 'error-type' }, e.ErrorType), ' ',
            el('span', { class: 'error-message' }, e.ErrorMessage))))),
      el('details', { dataset: { key: `${t.Name}/shards` }, open: open.has(`${t.Name}/shards`) },
        el('summary', {}, `Shards (${(t.Shards || []).length})`),
        table(['Shard', 'Next sequence number', 'Last sequence number'],
          (t.Shards || []).map((s) => el('tr', {}, el('td', {}, el('code', {}, s.ShardId)),
            el('td', { class: 'num' }, s.NextSequenceNumber), el('td', { class: 'num' }, s.LastSequenceNumber))))));
  });
  view.replaceChildren(
    el('h2', {}, 'Triggers ', el('span', { class: 'muted' }, `(${triggers.length})`)),
    ...(cards.length ? cards : [el('p', { class: 'empty' }, 'No triggers: create one with `eddy trigger create`.')]));
}

// ---- navigation, refresh, sign-in ----------------------------------------------

function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [view, ...rest] = hash.split('/');
  if (view === 'tables' && rest.length) return { view: 'table', arg: decodeURIComponent(rest.join('/')) };
  if (['tables', 'streams', 'triggers'].includes(view)) return { view };
  return { view: 'tables' };
}

async function render() {
  clearTimeout(refreshTimer);
  const generation = ++renderGeneration;
  const { view, arg } = route();
  const main = document.getElementById('view');
  main.dataset.view = view;
  // For tests and the curious: which render is under way (`started`, with
  // its `route`) and which one the view shows (`loaded`).
  main.dataset.started = String(generation);
  main.dataset.route = location.hash;
  for (const a of document.querySelectorAll('nav a')) {
    a.classList.toggle('active', a.dataset.view === (view === 'table' ? 'tables' : view));
  }
  try {
    if (view === 'tables') await tablesView(main, generation);
    else if (view === 'table') await tableView(main, generation, arg);
    else if (view === 'streams') await streamsView(main, generation);
    else await triggersView(main, generation);
    if (generation !== renderGeneration) return;
    main.dataset.loaded = String(generation);
    document.getElementById('updated').textContent = `updated ${new Date().toLocaleTimeString('en-GB')}`;
  } catch (e) {
    if (generation !== renderGeneration) return;
    main.replaceChildren(errorBox(e));
    main.dataset.loaded = String(generation);
    if (e instanceof ApiError && AUTH_ERRORS.has(e.type)) {
      // Nothing to refresh until someone signs in (which renders again).
      if (!storedCredentials() && document.getElementById('sign-in').hidden) showSignIn(true);
      return;
    }
  }
  if (REFRESH_MS[view]) {
    refreshTimer = setTimeout(() => { if (generation === renderGeneration) render(); }, REFRESH_MS[view]);
  }
}

function showSignIn(visible) {
  document.getElementById('sign-in').hidden = !visible;
  if (visible) document.getElementById('access-key-id').focus();
}

function showIdentity() {
  const creds = storedCredentials();
  document.getElementById('identity-label').textContent =
    creds ? `Signed in as ${creds.accessKeyId}` : 'Not signed in';
  document.getElementById('sign-in-button').hidden = Boolean(creds);
  document.getElementById('sign-out-button').hidden = !creds;
}

async function start() {
  // GET / answers "healthy: dynamodb.<region>.amazonaws.com": the region
  // the signatures are scoped to.
  try {
    const text = await (await fetch('/', { cache: 'no-store' })).text();
    const match = /dynamodb\.([a-z0-9-]+)\.amazonaws\.com/.exec(text);
    if (match) region = match[1];
  } catch (e) { /* The first API call reports the problem. */ }
  document.getElementById('region').textContent = region;

  document.getElementById('sign-in-button').addEventListener('click', () => showSignIn(true));
  document.getElementById('sign-in-cancel').addEventListener('click', () => showSignIn(false));
  document.getElementById('sign-out-button').addEventListener('click', () => {
    sessionStorage.removeItem(CREDENTIALS_KEY);
    showIdentity();
    render();
  });
  document.getElementById('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const creds = {
      accessKeyId: document.getElementById('access-key-id').value.trim(),
      secretAccessKey: document.getElementById('secret-access-key').value,
    };
    const token = document.getElementById('session-token').value.trim();
    if (token) creds.sessionToken = token;
    sessionStorage.setItem(CREDENTIALS_KEY, JSON.stringify(creds));
    event.target.reset();
    showSignIn(false);
    showIdentity();
    render();
  });
  window.addEventListener('hashchange', render);
  showIdentity();
  render();
}

start();
