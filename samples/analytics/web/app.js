// Polls /api/aggregates every second and draws the leaderboard and the
// per-minute revenue chart (plain DOM and SVG, no libraries).
"use strict";

const POLL_MS = 1000;
const PALETTE = ["#4c6ef5", "#f59f00", "#12b886", "#e64980", "#7950f2",
                 "#fa5252", "#15aabf", "#82c91e", "#fd7e14", "#868e96"];
const SVG_NS = "http://www.w3.org/2000/svg";
const money = new Intl.NumberFormat("en-US", {style: "currency", currency: "USD"});
const count = new Intl.NumberFormat("en-US");

const colors = new Map();  // category -> color, stable once assigned
function colorOf(category) {
  if (!colors.has(category)) colors.set(category, PALETTE[colors.size % PALETTE.length]);
  return colors.get(category);
}

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

let previousBoard = new Map();  // productId -> revenue, to flash changes

function drawLeaderboard(rows) {
  const body = document.querySelector("#leaderboard tbody");
  body.replaceChildren();
  document.getElementById("board-empty").hidden = rows.length > 0;
  const top = rows.length ? rows[0].revenue : 1;
  const now = new Map();
  for (const row of rows) {
    const tr = el("tr", {"class": "row", "data-rank": row.rank, "data-product-id": row.productId});
    if (previousBoard.get(row.productId) !== row.revenue) tr.classList.add("changed");
    now.set(row.productId, row.revenue);
    tr.append(el("td", {"class": "rank"}, row.rank));
    const product = el("td", {"class": "product"}, row.name);
    const bar = el("div", {"class": "bar"});
    bar.style.width = `${Math.max(2, 100 * row.revenue / top)}%`;
    bar.style.background = colorOf(row.category);
    product.append(bar);
    tr.append(product);
    const category = el("td", {"class": "category"});
    const swatch = el("span", {"class": "swatch"});
    swatch.style.background = colorOf(row.category);
    category.append(swatch, row.category);
    tr.append(category);
    tr.append(el("td", {"class": "num revenue"}, money.format(row.revenue)));
    tr.append(el("td", {"class": "num"}, count.format(row.orders)));
    tr.append(el("td", {"class": "num"}, count.format(row.units)));
    body.append(tr);
  }
  previousBoard = now;
}

// A "nice" axis step for values up to max: 1, 2 or 5 times a power of ten.
function niceStep(max, ticks) {
  const raw = max / ticks;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function drawChart(data) {
  const chart = document.getElementById("chart");
  const W = 640, H = 560, left = 64, right = 8, top = 10, bottom = 44;
  chart.replaceChildren();
  // From the oldest minute with orders (within the span served) to the newest.
  const first = data.minutes.findIndex((_, i) =>
    data.categories.some(c => data.orders[c][i] !== 0 || data.revenue[c][i] !== 0));
  const from = first < 0 ? data.minutes.length : first;
  const minutes = data.minutes.slice(from);
  const revenueOf = (c, i) => data.revenue[c][from + i];
  const ordersOf = (c, i) => data.orders[c][from + i];
  if (!minutes.length) {
    chart.append(svg("text", {x: W / 2, y: H / 2, "text-anchor": "middle"}, "No orders yet."));
    return 0;
  }
  const totals = minutes.map((_, i) =>
    data.categories.reduce((sum, c) => sum + Math.max(0, revenueOf(c, i)), 0));
  const step = niceStep(Math.max(1, ...totals), 5);
  const max = step * Math.ceil(Math.max(1, ...totals) / step);
  const plotW = W - left - right, plotH = H - top - bottom;
  const y = v => top + plotH - (v / max) * plotH;
  for (let v = 0; v <= max + step / 2; v += step) {
    chart.append(svg("line", {"class": "grid", x1: left, x2: W - right, y1: y(v), y2: y(v)}));
    chart.append(svg("text", {x: left - 6, y: y(v) + 4, "text-anchor": "end"},
                     money.format(v).replace(/\.00$/, "")));
  }
  const slot = plotW / minutes.length;
  const barW = Math.max(2, slot * 0.75);
  minutes.forEach((minute, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let base = 0;
    for (const c of data.categories) {
      const v = Math.max(0, revenueOf(c, i));
      if (v <= 0) continue;
      const rect = svg("rect", {x, y: y(base + v), width: barW, height: y(base) - y(base + v),
                                fill: colorOf(c), "data-minute": minute, "data-category": c});
      rect.append(svg("title", {}, `${minute.slice(11)} ${c}: ${money.format(v)}, ` +
                                   `${ordersOf(c, i)} orders`));
      chart.append(rect);
      base += v;
    }
    const every = Math.ceil(minutes.length / 10);
    if ((minutes.length - 1 - i) % every === 0) {  // Always the newest.
      chart.append(svg("text", {x: x + barW / 2, y: H - bottom + 16, "text-anchor": "middle"},
                       minute.slice(11)));
    }
  });
  chart.append(svg("line", {"class": "axis", x1: left, x2: W - right, y1: y(0), y2: y(0)}));
  chart.append(svg("text", {x: left + plotW / 2, y: H - 8, "text-anchor": "middle"},
                   "minute (UTC) the orders were placed"));

  const legend = document.getElementById("legend");
  legend.replaceChildren();
  for (const c of data.categories) {
    const sum = data.revenue[c].reduce((a, b) => a + b, 0);
    const item = el("li");
    const swatch = el("span", {"class": "swatch"});
    swatch.style.background = colorOf(c);
    item.append(swatch, `${c} ${money.format(sum)}`);
    legend.append(item);
  }
  return minutes.length;
}

function setStatus(text, error) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.classList.toggle("error", !!error);
}

async function poll() {
  try {
    const response = await fetch("/api/aggregates", {cache: "no-store"});
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    for (const c of data.categories) colorOf(c);
    drawLeaderboard(data.leaderboard);
    const shown = drawChart(data);
    const revenue = data.categories.reduce(
      (sum, c) => sum + data.revenue[c].reduce((a, b) => a + b, 0), 0);
    const orders = data.categories.reduce(
      (sum, c) => sum + data.orders[c].reduce((a, b) => a + b, 0), 0);
    setStatus(`${count.format(orders)} orders, ${money.format(revenue)} in the last ` +
              `${shown} minute${shown === 1 ? "" : "s"} · updated ${data.updatedAt.slice(11, 19)} UTC`);
  } catch (e) {
    setStatus(`cannot read the aggregates: ${e.message}`, true);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

poll();
