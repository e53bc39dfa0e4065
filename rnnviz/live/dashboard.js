// rnnviz live dashboard: plotly.js figures fed by binary frames from the kernel.
//
// Protocol (see _widget.py): the figures arrive once in the "figures" trait; frames arrive
// as custom messages {type: "frame", seq, parts, readout} with Float32 buffers. Only the
// newest frame is kept (latest wins); after drawing it we send {type: "drawn", seq} so the
// kernel sends the next one: never more than one frame in flight, never a backlog.

const PLOTLY_KEY = "__rnnvizPlotly";
const CONFIG = { displayModeBar: false, responsive: true, scrollZoom: false };
const SPEEDS = [
  [0, "max"], [1, "1 step/frame"], [2, "2"], [5, "5"], [10, "10"], [50, "50"],
];
const CURSOR = "#E69F00";
const SLOW_MS = 400; // figures that need a full plotly redraw get one at most this often

function axisName(id) { // "x2" -> "xaxis2"
  return id ? `${id[0]}axis${id.slice(1)}` : "xaxis";
}

function uniform(values) { // evenly spaced brick centres (or none given)
  if (!values || values.length < 3) return true;
  const step = values[1] - values[0];
  for (let i = 2; i < values.length; i++) {
    if (Math.abs(values[i] - values[i - 1] - step) > 1e-6 * Math.abs(step)) return false;
  }
  return true;
}

function heatmapImages(gd) { // trace index -> the <image> plotly drew for it
  const map = new Map();
  for (const g of gd.querySelectorAll("g.hm")) {
    const cd = g.__data__;
    const img = g.querySelector("image");
    if (img && cd && cd[0] && cd[0].trace) map.set(cd[0].trace.index, img);
  }
  return map;
}

function lineElements(gd) { // trace index -> the line <path> and marker <path>s plotly drew
  const map = new Map();
  for (const g of gd.querySelectorAll("g.trace.scatter")) {
    const cd = g.__data__;
    if (!cd || !cd[0] || !cd[0].trace) continue;
    map.set(cd[0].trace.index, {
      line: g.querySelector("path.js-line"),
      points: Array.from(g.querySelectorAll("g.points path.point")),
    });
  }
  return map;
}

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const arrayish = (v) => Array.isArray(v) || ArrayBuffer.isView(v);

function inRange(ax, v) { // is data value v inside the axis' current range?
  const l = ax.type === "log" ? Math.log10(v) : v;
  const [a, b] = ax.range;
  return l >= Math.min(a, b) && l <= Math.max(a, b);
}

function niceUp(v) { // the smallest 1, 1.2, 1.5, 2, 3, 5 or 7 x 10^k >= v (v > 0)
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 3, 5, 7, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

function growRanges(fig) {
  // Fixed axis ranges with room to grow into, so most frames only move the curves:
  // x against training step gets 100% headroom; log y axes get a decade below and above.
  const xs = {}, ys = {}, lin = {};
  const extend = (ends, ax, values) => {
    const v = values.filter(isNum);
    if (!v.length) return;
    const e = ends[ax] || (ends[ax] = [Infinity, -Infinity]);
    e[0] = Math.min(e[0], ...v); e[1] = Math.max(e[1], ...v);
  };
  const fixed = new Set(fig.spec.fixed_axes || []); // ranges known in advance (accuracy)
  for (const tr of fig.data) {
    if (tr.type !== "scatter" || !arrayish(tr.x) || !arrayish(tr.y)) continue;
    if (fig.spec.grow === "x") extend(xs, axisName(tr.xaxis || "x"), Array.from(tr.x));
    const ya = axisName(tr.yaxis || "y");
    if (fixed.has(ya)) continue;
    if ((fig.layout[ya] || {}).type === "log") {
      extend(ys, ya, Array.from(tr.y).filter((v) => v > 0).map(Math.log10));
    } else if (fig.spec.grow === "x") {
      extend(lin, ya, Array.from(tr.y));
    }
  }
  // Linear y axes of growing curves (loss, metric): from 0 (or below the data) to a round
  // span 15-50% above it, so the curves move inside a fixed frame and the axis is redrawn only when they leave.
  for (const [ax, [lo, hi]] of Object.entries(lin)) {
    const base = lo >= 0 ? 0 : lo - 0.1 * (hi - lo);
    const top = base + niceUp(hi > base ? 1.15 * (hi - base) : 1);
    fig.layout[ax] = Object.assign({}, fig.layout[ax], { range: [base, top], autorange: false });
  }
  for (const [ax, [lo, hi]] of Object.entries(xs)) {
    fig.layout[ax] = Object.assign({}, fig.layout[ax], {
      range: [lo, lo + Math.max(2 * (hi - lo), 100)], autorange: false,
    });
  }
  for (const [ax, [lo, hi]] of Object.entries(ys)) {
    fig.layout[ax] = Object.assign({}, fig.layout[ax], {
      range: [Math.floor(lo) - 1, Math.ceil(hi) + 1], autorange: false,
    });
  }
}

const LUTS = new Map();
function colorLut(colorscale) { // 256 RGBA entries interpolated from a plotly colorscale
  if (!Array.isArray(colorscale) || colorscale.length < 2) return null;
  const key = JSON.stringify(colorscale);
  if (LUTS.has(key)) return LUTS.get(key);
  const ctx = document.createElement("canvas").getContext("2d");
  const stops = colorscale.map(([at, color]) => {
    ctx.fillStyle = "#000";
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
    return [Number(at), r, g, b];
  });
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const f = i / 255;
    let k = 1;
    while (k < stops.length - 1 && stops[k][0] < f) k++;
    const [a0, r0, g0, b0] = stops[k - 1];
    const [a1, r1, g1, b1] = stops[k];
    const w = a1 > a0 ? Math.min(1, Math.max(0, (f - a0) / (a1 - a0))) : 0;
    lut.set([r0 + w * (r1 - r0), g0 + w * (g1 - g0), b0 + w * (b1 - b0), 255], 4 * i);
  }
  LUTS.set(key, lut);
  return lut;
}

// plotly.js, once per page: asked from the kernel (it ships with the plotly package).
function loadPlotly(model) {
  if (window.Plotly && window.Plotly.react) return Promise.resolve(window.Plotly);
  if (window[PLOTLY_KEY]) return window[PLOTLY_KEY];
  const promise = new Promise((resolve, reject) => {
    const onMsg = (msg, buffers) => {
      if (!msg || msg.type !== "plotly.js") return;
      model.off("msg:custom", onMsg);
      const url = URL.createObjectURL(new Blob([buffers[0]], { type: "text/javascript" }));
      const script = document.createElement("script");
      const define = window.define; // an AMD loader would swallow the UMD bundle
      if (define && define.amd) window.define = undefined;
      const done = () => {
        if (define && define.amd) window.define = define;
        URL.revokeObjectURL(url);
      };
      script.onload = () => {
        done();
        if (window.Plotly) resolve(window.Plotly);
        else reject(new Error("rnnviz: plotly.js did not load"));
      };
      script.onerror = () => { done(); reject(new Error("rnnviz: plotly.js failed to load")); };
      script.src = url;
      document.head.appendChild(script);
    };
    model.on("msg:custom", onMsg);
    model.send({ type: "plotly.js?" });
  });
  window[PLOTLY_KEY] = promise;
  promise.catch(() => { delete window[PLOTLY_KEY]; });
  return promise;
}

function h(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(e.dataset, v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function fmt(value, digits = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 1e-3)) {
    return value.toExponential(2);
  }
  return value.toFixed(digits);
}

function floats(view) {
  // A DataView (or ArrayBuffer) of float32 -> Float32Array (copy only if misaligned).
  const buf = view.buffer || view;
  const off = view.byteOffset || 0;
  const len = view.byteLength;
  if (off % 4 === 0) return new Float32Array(buf, off, len / 4);
  return new Float32Array(buf.slice(off, off + len));
}

function shaped(flat, shape) {
  if (shape.length !== 2) return Array.from(flat);
  const [rows, cols] = shape;
  const out = new Array(rows);
  for (let i = 0; i < rows; i++) out[i] = Array.from(flat.subarray(i * cols, (i + 1) * cols));
  return out;
}

async function render({ model, el }) {
  const cleanups = [];
  const listen = (name, fn) => { model.on(name, fn); cleanups.push(() => model.off(name, fn)); };

  // 1. the frame of the dashboard: header, controls, status, figures
  const root = h("div", { className: "rnnviz-dashboard", dataset: { frames: "0", seq: "0" } });
  const title = h("div", { className: "rnnviz-title", textContent: model.get("title") });
  const status = h("div", { className: "rnnviz-status" });
  const banner = h("div", { className: "rnnviz-banner", hidden: true });
  const play = h("button", { className: "rnnviz-play", title: "Play / pause training" });
  const stepBtn = h("button", { className: "rnnviz-step", textContent: "+1 batch",
                                title: "Train one batch" });
  const tBtn = h("button", { className: "rnnviz-tstep", textContent: "t + 1",
                             title: "Move the time cursor one step" });
  const resetBtn = h("button", { className: "rnnviz-reset", textContent: "↺ reset",
                                 title: "Fresh weights, empty history" });
  const speed = h("select", { className: "rnnviz-speed", title: "Training speed" },
    SPEEDS.map(([v, label]) => h("option", { value: String(v), textContent: label })));
  const lr = h("input", { className: "rnnviz-lr", type: "range", min: "-4", max: "0",
                          step: "0.05", title: "Learning rate (log scale)" });
  const lrText = h("span", { className: "rnnviz-value" });
  const clipOn = h("input", { className: "rnnviz-clip-on", type: "checkbox",
                              title: "Clip the gradient norm" });
  const clipVal = h("input", { className: "rnnviz-clip", type: "number", min: "0.01",
                               step: "0.1", title: "Clipping threshold" });
  const T = model.get("seq_len");
  const tSlider = h("input", { className: "rnnviz-t", type: "range", min: "0",
                               max: String(T - 1), step: "1", title: "Time step t" });
  const tText = h("span", { className: "rnnviz-value rnnviz-tvalue" });
  const sampleSel = h("select", { className: "rnnviz-sample", title: "Probe sequence shown" },
    Array.from({ length: model.get("probe_size") }, (_, i) =>
      h("option", { value: String(i), textContent: `sequence ${i}` })));
  const readout = h("div", { className: "rnnviz-readout" });
  const group = (label, ...kids) =>
    h("label", { className: "rnnviz-group" }, [h("span", { textContent: label }), ...kids]);
  const controls = h("div", { className: "rnnviz-controls" }, [
    play, stepBtn, resetBtn,
    group("speed", speed),
    group("lr", lr, lrText),
    group("clip", clipOn, clipVal),
  ]);
  const timeRow = h("div", { className: "rnnviz-controls rnnviz-time" }, [
    tBtn, group("t", tSlider, tText), group("show", sampleSel), readout,
  ]);
  const grid = h("div", { className: "rnnviz-grid" });
  root.append(h("div", { className: "rnnviz-head" }, [title, status]), banner, controls,
              timeRow, grid);
  el.append(root);

  // 2. controls <-> traits
  const save = (name, value) => { model.set(name, value); model.save_changes(); };
  play.onclick = () => save("playing", !model.get("playing"));
  stepBtn.onclick = () => model.send({ type: "step" });
  resetBtn.onclick = () => model.send({ type: "reset" });
  tBtn.onclick = () => save("t", (model.get("t") + 1) % T);
  speed.onchange = () => save("steps_per_frame", Number(speed.value));
  lr.oninput = () => { lrText.textContent = fmt(10 ** Number(lr.value), 4); };
  lr.onchange = () => save("lr", Number((10 ** Number(lr.value)).toPrecision(3)));
  clipOn.onchange = () => save("clip_enabled", clipOn.checked);
  clipVal.onchange = () => {
    const v = Number(clipVal.value);
    if (v > 0) save("clip_value", v); else clipVal.value = String(model.get("clip_value"));
  };
  tSlider.oninput = () => save("t", Number(tSlider.value));
  sampleSel.onchange = () => save("sample", Number(sampleSel.value));

  let lastReadout = [];
  const syncControls = () => {
    const playing = model.get("playing");
    play.textContent = playing ? "❚❚ pause" : "▶ play";
    play.classList.toggle("rnnviz-on", playing);
    speed.value = String(model.get("steps_per_frame"));
    if (speed.selectedIndex < 0) speed.value = "0";
    lr.value = String(Math.log10(model.get("lr")));
    lrText.textContent = fmt(model.get("lr"), 4);
    clipOn.checked = model.get("clip_enabled");
    clipVal.value = String(model.get("clip_value"));
    clipVal.disabled = !model.get("clip_enabled");
    sampleSel.value = String(model.get("sample"));
  };
  let live = null; // the newest frame's numbers while training (traits sync less often)
  const syncStatus = () => {
    const st = model.get("status");
    const get = (name) => (live && st === "training" && name in live ? live[name] : model.get(name));
    const parts = [
      `step ${get("step")}`,
      `loss ${fmt(get("loss"))}`,
      `${model.get("metric_name")} ${fmt(get("metric"), 3)}`,
      `${fmt(get("steps_per_s"), 1)} steps/s`,
    ];
    status.textContent = `${st} · ${parts.join(" · ")}`;
    status.dataset.state = st;
    root.dataset.status = st;
    const msg = model.get("message");
    banner.hidden = !msg;
    banner.textContent = st === "diverged" ? `diverged: ${msg}` : msg;
    banner.classList.toggle("rnnviz-error", st === "diverged" || msg.startsWith("error"));
    stepBtn.disabled = st === "diverged";
    play.disabled = st === "diverged";
  };
  syncControls();
  syncStatus();
  for (const name of ["playing", "steps_per_frame", "lr", "clip_enabled", "clip_value",
                      "sample"]) {
    listen(`change:${name}`, syncControls);
  }
  for (const name of ["status", "step", "loss", "metric", "steps_per_s", "message"]) {
    listen(`change:${name}`, syncStatus);
  }

  // 3. the figures, created once
  let Plotly;
  try {
    Plotly = await loadPlotly(model);
  } catch (err) {
    grid.textContent = String(err);
    throw err;
  }
  const specs = model.get("figures");
  const figs = {};
  const dark = () => document.body.dataset.jpThemeLight === "false";
  for (const name of model.get("figure_order")) {
    const spec = specs[name];
    const div = h("div", { className: `rnnviz-fig rnnviz-${spec.grid}`, dataset: { fig: name } });
    div.style.height = `${spec.layout.height || 400}px`; // fixed: redraws never move the page
    grid.append(div);
    const layout = JSON.parse(JSON.stringify(spec.layout));
    if (model.get("theme") === "auto") {
      const fg = dark() ? "#e8e8e8" : "#222222";
      layout.font = Object.assign({}, layout.font, { color: fg });
    }
    figs[name] = {
      div, spec, data: JSON.parse(JSON.stringify(spec.data)), layout,
      baseShapes: (layout.shapes || []).slice(),
      lastFull: -Infinity, drawnOnce: false, stale: false, images: null,
    };
  }

  function cursorShapes(fig, t) {
    return fig.spec.time_axes.map(([xref, yref]) => ({
      type: "line", xref, yref: `${yref} domain`, x0: t, x1: t, y0: 0, y1: 1,
      line: { color: CURSOR, width: 3 }, layer: "above",
    }));
  }
  function applyCursor(fig, t) {
    fig.layout.shapes = fig.baseShapes.concat(cursorShapes(fig, t));
    const hl = fig.spec.highlight;
    if (hl && hl.trace >= 0 && fig.data[hl.trace]) {
      const x0 = t - hl.width / 2 - 0.08, x1 = t + hl.width / 2 + 0.08;
      const y0 = hl.y_low - 0.1, y1 = hl.y_top + 0.1;
      fig.data[hl.trace].x = [x0, x1, x1, x0, x0];
      fig.data[hl.trace].y = [y0, y0, y1, y1, y0];
    }
  }
  const showT = () => {
    const t = model.get("t");
    tSlider.value = String(t);
    tText.textContent = `${t} / ${T - 1}`;
    readout.textContent = lastReadout[t] ? `t = ${t}: ${lastReadout[t]}` : "";
  };

  let revision = 0;
  const draw = (fig) => {
    fig.layout.datarevision = ++revision;
    return Plotly.react(fig.div, fig.data, fig.layout, CONFIG);
  };
  const t0 = model.get("t");
  await Promise.all(Object.values(figs).map(async (fig) => {
    applyCursor(fig, t0);
    growRanges(fig);
    await Plotly.newPlot(fig.div, fig.data, fig.layout, CONFIG);
    fig.drawnOnce = true;
    fig.lastFull = performance.now();
  }));
  showT();
  listen("change:t", () => {
    const t = model.get("t");
    showT();
    for (const fig of Object.values(figs)) {
      if (fig.spec.time_axes.length || fig.spec.highlight) { fullDraw(fig, t); }
    }
  });

  // 4. frames: keep only the newest, draw it on the next animation frame, then ack
  let pending = null;
  let drawing = false;
  let lastAcked = -Infinity; // seq of the last frame acknowledged
  let frames = 0;
  let drawMs = 0;
  let localMs = 0; // from a frame's arrival to its ack
  const stats = { fast: 0, full: 0, fastMs: 0, fullMs: 0, byFig: {}, why: {} };
  let closed = false;
  // A heatmap whose colour range and shape did not change is repainted directly: its z goes
  // into a T x H canvas (one pixel per cell) that replaces the image plotly drew. That costs
  // well under a millisecond; a full Plotly.react of a figure costs 10-40 ms, so figures that
  // need one (curves with moving axes, new colour ranges) are redrawn at most every SLOW_MS.
  const why = (fig, reason) => {
    const k = `${fig.div.dataset.fig} ${reason}`;
    stats.why[k] = (stats.why[k] || 0) + 1;
  };
  const applyFrame = async ({ msg, buffers }) => {
    const full = new Set();
    const heat = [];
    const lines = new Map(); // "fig/trace" -> {fig, index}
    for (const part of msg.parts) {
      const fig = figs[part.fig];
      if (!fig || !fig.data[part.trace]) continue;
      const trace = fig.data[part.trace];
      let flat = null;
      if (part.buffer === undefined) {
        if (JSON.stringify(trace[part.key]) === JSON.stringify(part.value)) continue;
        trace[part.key] = part.value;
      } else {
        flat = floats(buffers[part.buffer]);
        trace[part.key] = shaped(flat, part.shape);
      }
      if (part.key === "z" && trace.type === "heatmap" && flat && part.shape.length === 2) {
        heat.push({ fig, index: part.trace, flat, shape: part.shape });
      } else if ((part.key === "x" || part.key === "y") && trace.type === "scatter") {
        lines.set(`${part.fig}/${part.trace}`, { fig, index: part.trace });
      } else {
        why(fig, `value ${part.trace}.${part.key}`);
        full.add(fig);
      }
    }
    const now = performance.now();
    const fastStart = performance.now();
    for (const item of heat) {
      if (full.has(item.fig) || !paintHeatmap(item.fig, item.index, item.flat, item.shape)) {
        if (!full.has(item.fig)) why(item.fig, `heat ${item.index}`);
        full.add(item.fig);
      } else {
        stats.fast += 1;
      }
    }
    for (const item of lines.values()) {
      if (full.has(item.fig) || !paintLine(item.fig, item.index)) {
        if (!full.has(item.fig)) why(item.fig, `line ${item.index}`);
        full.add(item.fig);
      }
      else stats.fast += 1;
    }
    stats.fastMs += performance.now() - fastStart;
    const t = model.get("t");
    const due = [];
    for (const fig of full) {
      if (now - fig.lastFull >= SLOW_MS || !fig.drawnOnce) {
        due.push(fig);
      } else {
        fig.stale = true;
      }
    }
    await Promise.all(due.map((fig) => fullDraw(fig, t)));
    scheduleStale();
    if (msg.readout) lastReadout = msg.readout;
    live = msg.live || null;
    if (live) syncStatus();
    showT();
  };
  const fullDraw = async (fig, t) => {
    fig.stale = false;
    fig.lastFull = performance.now();
    applyCursor(fig, t);
    growRanges(fig);
    stats.full += 1;
    stats.byFig[fig.spec.name || fig.div.dataset.fig] =
      (stats.byFig[fig.spec.name || fig.div.dataset.fig] || 0) + 1;
    const start = performance.now();
    await draw(fig);
    stats.fullMs += performance.now() - start;
    fig.drawnOnce = true;
    fig.images = null; // plotly made new <image> and <path> elements
    fig.lines = null;
  };
  let staleTimer = null;
  const scheduleStale = () => {
    if (staleTimer !== null || closed) return;
    const stale = Object.values(figs).filter((f) => f.stale);
    if (!stale.length) return;
    const wait = Math.max(0, Math.min(...stale.map((f) => f.lastFull + SLOW_MS - performance.now())));
    staleTimer = setTimeout(async () => {
      staleTimer = null;
      if (closed) return;
      const t = model.get("t");
      await Promise.all(Object.values(figs).filter((f) => f.stale).map((f) => fullDraw(f, t)));
    }, wait);
  };
  const paintLine = (fig, index) => {
    const gd = fig.div;
    const full = gd._fullData && gd._fullData[index];
    if (!full || full.type !== "scatter" || full.visible !== true) return false;
    if (!fig.lines) fig.lines = lineElements(gd);
    const els = fig.lines.get(index);
    const mode = full.mode || "";
    if (!els || (mode.includes("lines") && !els.line)) return false;
    const xs = arrayish(fig.data[index].x) ? fig.data[index].x : full.x;
    const ys = arrayish(fig.data[index].y) ? fig.data[index].y : full.y;
    const xa = gd._fullLayout[axisName(full.xaxis)], ya = gd._fullLayout[axisName(full.yaxis)];
    if (!xa || !ya || !xs || !ys || xs.length !== ys.length) return false;
    let d = "";
    let pen = "M";
    const pts = [];
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i], y = ys[i];
      if (!isNum(x) || !isNum(y) || (ya.type === "log" && !(y > 0))) { pen = "M"; continue; }
      if (!inRange(xa, x) || !inRange(ya, y)) return false; // the axes must grow: full redraw
      const px = xa.c2p(x), py = ya.c2p(y);
      d += `${pen}${px.toFixed(2)},${py.toFixed(2)}`;
      pen = "L";
      pts.push(`translate(${px.toFixed(2)},${py.toFixed(2)})`);
    }
    if (mode.includes("markers")) {
      if (els.points.length !== pts.length) return false;
      els.points.forEach((p, i) => p.setAttribute("transform", pts[i]));
    }
    if (els.line) els.line.setAttribute("d", d || "M0,0");
    return true;
  };
  const paintHeatmap = (fig, index, flat, shape) => {
    const gd = fig.div;
    const full = gd._fullData && gd._fullData[index];
    if (!full || !gd.calcdata || !gd.calcdata[index]) return false;
    if (!fig.images) fig.images = heatmapImages(gd);
    const img = fig.images.get(index);
    const cd0 = gd.calcdata[index][0];
    const [rows, cols] = shape;
    if (!img || !cd0.z || cd0.z.length !== rows || (cd0.z[0] || []).length !== cols) return false;
    if (!uniform(cd0.x) || !uniform(cd0.y)) return false;
    const lut = colorLut(full.colorscale);
    const zmin = full.zmin, zmax = full.zmax;
    if (!lut || !(zmax > zmin)) return false;
    const xa = gd._fullLayout[axisName(full.xaxis)], ya = gd._fullLayout[axisName(full.yaxis)];
    const flipX = xa && xa.range[0] > xa.range[1];
    const flipY = !(ya && ya.range[0] > ya.range[1]); // canvas rows go down, y goes up
    const canvas = document.createElement("canvas");
    canvas.width = cols;
    canvas.height = rows;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(cols, rows);
    const px = image.data;
    const scale = 255 / (zmax - zmin);
    for (let r = 0; r < rows; r++) {
      const rr = flipY ? rows - 1 - r : r;
      for (let c = 0; c < cols; c++) {
        const cc = flipX ? cols - 1 - c : c;
        const v = flat[r * cols + c];
        const o = 4 * (rr * cols + cc);
        if (!Number.isFinite(v)) { px[o + 3] = 0; continue; }
        const k = 4 * Math.max(0, Math.min(255, Math.round((v - zmin) * scale)));
        px[o] = lut[k]; px[o + 1] = lut[k + 1]; px[o + 2] = lut[k + 2]; px[o + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
    img.setAttribute("href", canvas.toDataURL("image/png"));
    img.removeAttribute("xlink:href");
    img.setAttribute("preserveAspectRatio", "none");
    img.style.imageRendering = "pixelated";
    cd0.z = fig.data[index].z; // hover reads the new values
    return true;
  };
  const drawLatest = async () => {
    if (closed) return;
    const frame = pending;
    pending = null;
    const start = performance.now();
    try {
      await applyFrame(frame);
    } finally {
      drawMs = 0.8 * drawMs + 0.2 * (performance.now() - start);
      root.dataset.drawMs = drawMs.toFixed(1);
      root.dataset.fastPaints = String(stats.fast);
      root.dataset.fullDraws = String(stats.full);
      root.dataset.fastMs = stats.fastMs.toFixed(0);
      root.dataset.fullMs = stats.fullMs.toFixed(0);
      root.dataset.fullByFig = JSON.stringify(stats.byFig);
      root.dataset.fullWhy = JSON.stringify(stats.why);
      frames += 1;
      root.dataset.frames = String(frames);
      root.dataset.seq = String(frame.msg.seq);
      root.dataset.step = String(frame.msg.step);
      localMs = 0.8 * localMs + 0.2 * (performance.now() - frame.at);
      root.dataset.localMs = localMs.toFixed(1);
      // Every ack is a shell message, and the kernel wraps each in two status messages: while
      // training at full speed the kernel asks for an ack every `ack_every` frames *sent* (so
      // frames dropped here count too, and its window of ack_every + 1 never fills up).
      if (!closed && frame.msg.seq - lastAcked >= (frame.msg.ack_every || 1)) {
        lastAcked = frame.msg.seq;
        const epoch = (t) => (performance.timeOrigin + t) / 1000;
        model.send({ type: "drawn", seq: frame.msg.seq, sent: frame.msg.sent,
                     arrived: epoch(frame.at), drawing: (performance.now() - frame.at) / 1000,
                     acked: epoch(performance.now()) });
      }
      if (pending && !closed) requestAnimationFrame(drawLatest);
      else drawing = false;
    }
  };
  listen("msg:custom", (msg, buffers) => {
    if (!msg || msg.type !== "frame") return;
    pending = { msg, buffers, at: performance.now() }; // latest wins: older undrawn dropped
    // Idle: draw now (waiting for the next animation frame adds ~8 ms to every round trip);
    // frames that arrive during a draw wait for the next animation frame.
    if (!drawing) { drawing = true; drawLatest(); }
  });
  model.send({ type: "hello" });

  return () => {
    closed = true;
    if (staleTimer !== null) clearTimeout(staleTimer);
    for (const off of cleanups) off();
    for (const fig of Object.values(figs)) Plotly.purge(fig.div);
  };
}

export default { render };
