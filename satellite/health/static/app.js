// Status page: polls /status and draws it. No framework, no build step, nothing fetched from
// the internet. Text from the box (transcripts, replies) is set with textContent, never as HTML.
"use strict";

const BUDGET_MS = 800;
const SVG_NS = "http://www.w3.org/2000/svg";

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function ms(value) {
  return typeof value === "number" ? `${Math.round(value)} ms` : "–";
}

function duration(seconds) {
  const s = Math.floor(seconds);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172800) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

// How fast the box answered one turn: end of speech → first reply audio when the mic loop
// measured it, else the first audio of the reply, else the whole turn.
function replyLatency(timings) {
  for (const key of ["first_reply_audio_ms", "first_audio_ms", "total_ms"]) {
    if (typeof timings[key] === "number") return timings[key];
  }
  return null;
}

function fillRows(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = el("tr");
    for (const cell of cells) tr.append(cell instanceof Node ? cell : el("td", cell));
    return tr;
  }));
}

function stateCell(state) {
  return el("td", state, `state-${state}`);
}

function numCell(text) {
  return el("td", text, "num");
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function drawChart(container, turns) {
  const width = 1100, height = 240, left = 52, right = 10, top = 12, bottom = 28;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
                             "aria-label": "reply latency of the recent turns" });
  chart.id = "latency-chart";
  const points = turns.slice().reverse()
    .map((t) => ({ reply: replyLatency(t.timings_ms), stt: t.timings_ms.stt_ms, turn: t }))
    .filter((p) => p.reply !== null);
  if (!points.length) {
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle",
                               fill: "#656d76", "font-size": 16 }, "no turns yet"));
    container.replaceChildren(chart);
    return;
  }
  const peak = Math.max(BUDGET_MS * 1.2, ...points.map((p) => p.reply));
  const step = peak > 4000 ? 1000 : peak > 2000 ? 500 : 200;
  const yMax = Math.ceil(peak / step) * step;
  const plotH = height - top - bottom, plotW = width - left - right;
  const y = (v) => top + plotH - (v / yMax) * plotH;
  for (let v = 0; v <= yMax; v += step) {
    chart.append(svg("line", { x1: left, x2: width - right, y1: y(v), y2: y(v),
                               stroke: "#d0d7de", "stroke-width": 1 }));
    chart.append(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end",
                               fill: "#656d76", "font-size": 11 }, String(v)));
  }
  const slot = plotW / points.length;
  const barW = Math.max(2, Math.min(36, slot * 0.7));
  points.forEach((p, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const bar = svg("rect", { x, y: y(p.reply), width: barW, height: y(0) - y(p.reply),
                              fill: p.reply > BUDGET_MS ? "#c62828" : "#3b6fd6", class: "bar" });
    bar.append(svg("title", {}, `${Math.round(p.reply)} ms · ${p.turn.source} · ${p.turn.transcript}`));
    chart.append(bar);
    if (typeof p.stt === "number" && p.stt <= p.reply) {
      chart.append(svg("rect", { x, y: y(p.stt), width: barW, height: y(0) - y(p.stt),
                                 fill: "#9db7ee", opacity: 0.9 }));
    }
  });
  chart.append(svg("line", { x1: left, x2: width - right, y1: y(BUDGET_MS), y2: y(BUDGET_MS),
                             stroke: "#b26b00", "stroke-width": 2, "stroke-dasharray": "6 4" }));
  const legend = [["#3b6fd6", "reply latency"], ["#9db7ee", "of which STT"],
                  ["#c62828", "over budget"]];
  legend.forEach(([color, label], i) => {
    const x = left + 10 + i * 150;
    chart.append(svg("rect", { x, y: height - 18, width: 12, height: 12, fill: color }));
    chart.append(svg("text", { x: x + 18, y: height - 8, fill: "#1f2328", "font-size": 12 }, label));
  });
  container.replaceChildren(chart);
}

function render(status) {
  document.getElementById("version").textContent = `v${status.version}`;
  const badge = document.getElementById("badge");
  const health = status.health, ready = status.ready;
  let cls = "ok", text = "Healthy · ready";
  if (!health.ok) { cls = "bad"; text = "Unhealthy"; }
  else if (!ready.ok) { cls = "degraded"; text = "Not ready"; }
  else if (health.status === "degraded") { cls = "degraded"; text = "Degraded"; }
  badge.className = `badge ${cls}`;
  badge.textContent = text;
  document.getElementById("reasons").textContent =
    [...new Set([...health.reasons, ...ready.reasons])].join(" · ");

  const measures = [["first_reply_audio_ms", "end of speech → first reply audio"],
                    ["first_audio_ms", "question → first reply audio"],
                    ["total_ms", "question → whole reply"]];
  const [key, label] = measures.find(([k]) => status.latency_ms[k]) || measures[0];
  const latency = status.latency_ms[key];
  document.getElementById("p50-label").textContent = label;
  document.getElementById("p50").textContent = latency ? ms(latency.p50) : "–";
  document.getElementById("p90").textContent = latency ? ms(latency.p90) : "–";
  document.getElementById("turn-count").textContent = status.turns.length;
  document.getElementById("queue").textContent =
    `queue ${status.engines.queue_depth} · running ${status.engines.running.length}`;
  document.getElementById("uptime").textContent = duration(status.uptime_s);
  document.getElementById("room").textContent = (status.room && status.room.phase) || "no microphone";
  const home = status.home;
  document.getElementById("home").textContent = home
    ? `${home.room || home.box} · ${home.peers.map((p) => p.room || p.box).join(", ") || "no other box heard"}`
    : "what the box is doing";
  const rss = status.process.resident_memory_bytes;
  document.getElementById("memory").textContent = rss ? `${Math.round(rss / 1048576)} MB resident` : "";

  drawChart(document.getElementById("chart"), status.turns);

  fillRows(document.querySelector("#components tbody"), status.components.map((c) =>
    [c.name, stateCell(c.state), c.detail]));
  fillRows(document.querySelector("#models tbody"), Object.entries(status.models).map(([stage, m]) =>
    [stage, m.model, numCell(typeof m.load_s === "number" ? `${m.load_s.toFixed(2)} s` : "–")]));
  const devices = Object.entries(status.audio.devices).map(([role, name]) => [role, name]);
  if (typeof status.audio.last_mic_frame_age_s === "number") {
    devices.push(["last mic frame", `${status.audio.last_mic_frame_age_s.toFixed(1)} s ago`]);
  }
  if (!devices.length) devices.push(["none", "no audio input or output (serve mode, or off)"]);
  fillRows(document.querySelector("#devices tbody"), devices);
  const timers = (status.timers || []).map((t) =>
    [t.label, stateCell(t.state), numCell(t.state === "ringing" ? "ringing" : duration(t.remaining_s))]);
  if (!timers.length) timers.push(["none", "", ""]);
  fillRows(document.querySelector("#timers tbody"), timers);
  fillRows(document.querySelector("#turns tbody"), status.turns.map((t) => [
    new Date(t.at_s * 1000).toLocaleTimeString(), t.door, t.transcript, t.reply, t.source,
    numCell(ms(t.timings_ms.stt_ms)), numCell(ms(replyLatency(t.timings_ms))),
    numCell(ms(t.timings_ms.total_ms)),
  ]));
  document.getElementById("updated").textContent = new Date().toLocaleTimeString();
}

async function refresh() {
  try {
    const response = await fetch("/status", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
  } catch (error) {
    const badge = document.getElementById("badge");
    badge.className = "badge bad";
    badge.textContent = "No answer";
    document.getElementById("reasons").textContent = `cannot read /status: ${error.message}`;
  }
}

refresh();
setInterval(refresh, 2000);
