// rnnviz live dashboard: plotly.js figures fed by binary frames from the kernel.
//
// Protocol (see _widget.py): the figures arrive once in the "figures" trait; frames arrive
// as custom messages {type: "frame", seq, parts, readout} with Float32 buffers. Only the
// newest frame is kept (latest wins); after drawing it we send {type: "drawn", seq}, which
// frees the kernel's window of frames in flight: a bounded window, never a backlog.

const PLOTLY_KEY = "__rnnvizPlotly";
const CONFIG = { displayModeBar: false, responsive: true, scrollZoom: false };
const SPEEDS = [
  [0, "max"], [1, "1 step/frame"], [2, "2"], [5, "5"], [10, "10"], [50, "50"],
];
const CURSOR = "#E69F00";
const CURSOR_OPACITY = 0.8; // explicit: a template's shape default (0.3) is too faint to project
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

function dropOverlays(fig) { // the overlays of a figure plotly just redrew
  for (const ov of fig.overlays ? fig.overlays.values() : []) {
    ov.canvas.remove();
    for (const e of ov.hidden) e.style.visibility = ""; // plotly may have reused them
  }
  fig.overlays = new Map();
}

function edges(values, n) { // brick edges from plotly's calcdata (it holds edges or centres)
  if (!values || values.length === n + 1) return values;
  if (values.length !== n || n < 2) return null;
  const half = (values[1] - values[0]) / 2;
  return [values[0] - half, values[n - 1] + half];
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

function colour(image, flat, rows, cols, lut, zmin, zmax, flipX = false, flipY = false) {
  // z (rows x cols, row 0 at the bottom of an upward y axis) -> RGBA pixels (row 0 on top)
  const px = image.data;
  const scale = 255 / (zmax - zmin);
  for (let r = 0; r < rows; r++) {
    const o0 = 4 * (flipY ? r : rows - 1 - r) * cols;
    for (let c = 0; c < cols; c++) {
      const v = flat[r * cols + c];
      const o = o0 + 4 * (flipX ? cols - 1 - c : c);
      if (!Number.isFinite(v)) { px[o + 3] = 0; continue; }
      const k = 4 * Math.max(0, Math.min(255, Math.round((v - zmin) * scale)));
      px[o] = lut[k]; px[o + 1] = lut[k + 1]; px[o + 2] = lut[k + 2]; px[o + 3] = 255;
    }
  }
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
  for (let i = 0; i < rows; i++) out[i] = flat.subarray(i * cols, (i + 1) * cols); // views
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
      lastFull: -Infinity, drawnOnce: false, stale: false, overlays: null, images: null,
    };
  }

  function cursorShapes(fig, t) {
    return fig.spec.time_axes.map(([xref, yref]) => ({
      type: "line", xref, yref: `${yref} domain`, x0: t, x1: t, y0: 0, y1: 1,
      line: { color: CURSOR, width: 3 }, opacity: CURSOR_OPACITY, layer: "above",
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
    fig.div.on("plotly_afterplot", () => { // after any redraw, resizes too
      fig.lines = fig.images = null;
      dropOverlays(fig);
    });
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
  // A frame whose heatmaps keep their colour range and whose curves stay inside their axes
  // is painted directly on canvas overlays (see overlayFor below): well under a millisecond
  // per figure. A full Plotly.react costs 50-100 ms in JupyterLab, so figures that need one
  // (an axis that must grow, a new colour range) are redrawn at most every SLOW_MS.
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
    for (const fig of Object.values(figs)) {
      if (full.has(fig) || !fig.overlays) continue;
      for (const ov of fig.overlays.values()) if (ov.dirty) drawOverlay(fig, ov);
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
    fig.lines = fig.images = null; // plotly made new <path> and <image> elements
    dropOverlays(fig);
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
  // Overlays. Between full redraws, what changed is drawn on one <canvas> per subplot, laid
  // over its plot area: above plotly's SVG (so the SVG is never touched, re-encoded or
  // re-rasterised) and below plotly's hover layer and annotations. A heatmap's cells go into
  // a cols x rows bitmap (one pixel per cell) that is scaled onto the overlay; a curve is
  // drawn from fig.data in the style plotly gave it, and plotly's own path for it is hidden.
  // The time cursor is drawn last, as plotly draws it above the data. Any plotly redraw (a
  // full frame, a resize) drops the overlays: plotly's SVG then shows the same data, and the
  // next frame lays new overlays on the new geometry.
  const overlayFor = (fig, full) => {
    const key = `${full.xaxis || "x"} ${full.yaxis || "y"}`;
    if (!fig.overlays) fig.overlays = new Map();
    let ov = fig.overlays.get(key);
    if (ov) return ov;
    const gd = fig.div;
    const xa = gd._fullLayout[axisName(full.xaxis)], ya = gd._fullLayout[axisName(full.yaxis)];
    const container = gd.querySelector(".svg-container");
    const svg = container && container.querySelector(":scope > svg.main-svg");
    if (!xa || !ya || !svg || !(xa._length > 0 && ya._length > 0)) return null;
    // on whole pixels (a layer at a fractional offset is snapped, shifting every mark), with
    // the plot area at (ox, oy) inside it
    const dpr = window.devicePixelRatio || 1;
    const left = Math.floor(xa._offset), top = Math.floor(ya._offset);
    const width = Math.ceil(xa._offset + xa._length) - left;
    const height = Math.ceil(ya._offset + ya._length) - top;
    const canvas = document.createElement("canvas");
    canvas.className = "rnnviz-overlay";
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    Object.assign(canvas.style, {
      position: "absolute", left: `${left}px`, top: `${top}px`, width: `${width}px`,
      height: `${height}px`, pointerEvents: "none",
    });
    svg.after(canvas); // the second main-svg (hover labels, annotations) stays above it
    const timeAxis = fig.spec.time_axes.some(([x, y]) => x === (full.xaxis || "x")
                                             && y === (full.yaxis || "y"));
    ov = { canvas, ctx: canvas.getContext("2d"), xa, ya, dpr, ox: xa._offset - left,
           oy: ya._offset - top, heat: new Map(),
           lines: new Map(), hidden: [], cursor: timeAxis, dirty: false };
    fig.overlays.set(key, ov);
    return ov;
  };
  const drawOverlay = (fig, ov) => {
    const { ctx, canvas, xa, ya, dpr, ox, oy } = ov;
    ov.dirty = false;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.imageSmoothingEnabled = false;
    for (const hm of ov.heat.values()) { // where plotly put its image: in plot-area pixels
      ctx.setTransform(dpr * Math.sign(hm.w), 0, 0, dpr * Math.sign(hm.h), dpr * (ox + hm.x),
                       dpr * (oy + hm.y));
      ctx.drawImage(hm.cells, 0, 0, Math.abs(hm.w), Math.abs(hm.h)); // a reversed axis mirrors
    }
    ctx.save();
    ctx.setTransform(dpr, 0, 0, dpr, dpr * ox, dpr * oy); // plot-area pixels, as c2p gives
    ctx.beginPath();
    ctx.rect(0, 0, xa._length, ya._length);
    ctx.clip(); // plotly clips curves to the plot area too
    for (const [index, st] of ov.lines) {
      const xs = fig.data[index].x, ys = fig.data[index].y;
      const log = ya.type === "log";
      const pts = [];
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i], y = ys[i];
        if (!isNum(x) || !isNum(y) || (log && !(y > 0))) { pen = false; continue; }
        const px = xa.c2p(x), py = ya.c2p(y);
        if (pen) ctx.lineTo(px, py); else ctx.moveTo(px, py);
        pen = true;
        pts.push(px, py);
      }
      ctx.globalAlpha = st.opacity;
      if (st.width > 0) {
        ctx.strokeStyle = st.stroke;
        ctx.lineWidth = st.width;
        ctx.setLineDash(st.dash);
        ctx.lineJoin = "round";
        ctx.stroke();
        ctx.setLineDash([]);
      }
      if (st.radius > 0) {
        ctx.fillStyle = st.fill;
        ctx.beginPath();
        for (let i = 0; i < pts.length; i += 2) {
          ctx.moveTo(pts[i] + st.radius, pts[i + 1]);
          ctx.arc(pts[i], pts[i + 1], st.radius, 0, 2 * Math.PI);
        }
        ctx.fill();
      }
      ctx.globalAlpha = 1;
    }
    if (ov.cursor) { // plotly's cursor line is under the overlay: draw it again on top
      ctx.restore();
      // plotly draws shapes with crisp edges: on whole device pixels
      const x = dpr * (ox + xa.c2p(model.get("t")));
      const x0 = Math.round(x - 1.5 * dpr), x1 = Math.round(x + 1.5 * dpr);
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.globalAlpha = CURSOR_OPACITY;
      ctx.fillStyle = CURSOR;
      ctx.fillRect(x0, Math.round(dpr * oy), x1 - x0, Math.round(dpr * ya._length));
      ctx.globalAlpha = 1;
      return;
    }
    ctx.restore();
  };
  const lineStyle = (els, full) => { // how plotly drew a curve, read back from its SVG
    const px = (v) => parseFloat(v) || 0;
    const style = { stroke: "#000", width: 0, dash: [], fill: "#000", radius: 0, opacity: 1 };
    if (els.line) {
      const cs = getComputedStyle(els.line);
      style.stroke = cs.stroke;
      style.width = px(cs.strokeWidth);
      style.dash = cs.strokeDasharray === "none" ? [] : cs.strokeDasharray.split(",").map(px);
      style.opacity = cs.strokeOpacity === "" ? 1 : Number(cs.strokeOpacity);
    }
    if ((full.mode || "").includes("markers")) {
      const m = full.marker || {};
      if (!els.points.length || typeof m.size !== "number" || (m.symbol || "circle") !== "circle"
          || (m.line && m.line.width > 0)) return null; // only plain dots are redrawn here
      style.fill = getComputedStyle(els.points[0]).fill;
      style.radius = m.size / 2;
    }
    return style;
  };
  const paintLine = (fig, index) => {
    const gd = fig.div;
    const full = gd._fullData && gd._fullData[index];
    if (!full || full.type !== "scatter" || full.visible !== true) return false;
    const mode = full.mode || "";
    if (mode.includes("text") || (full.fill || "none") !== "none"
        || (mode.includes("lines") && (full.line || {}).shape !== "linear")) return false;
    const xs = fig.data[index].x, ys = fig.data[index].y;
    const xa = gd._fullLayout[axisName(full.xaxis)], ya = gd._fullLayout[axisName(full.yaxis)];
    if (!xa || !ya || !arrayish(xs) || !arrayish(ys) || xs.length !== ys.length) return false;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i], y = ys[i];
      if (!isNum(x) || !isNum(y) || (ya.type === "log" && !(y > 0))) continue;
      if (!inRange(xa, x) || !inRange(ya, y)) return false; // the axes must grow: full redraw
    }
    const ov = overlayFor(fig, full);
    if (!ov) return false;
    if (!ov.lines.has(index)) { // first time since plotly drew it: take over from its path
      if (!fig.lines) fig.lines = lineElements(gd);
      const els = fig.lines.get(index);
      const style = els && (!mode.includes("lines") || els.line) && lineStyle(els, full);
      if (!style) return false;
      for (const e of [els.line, ...els.points]) {
        if (e) { e.style.visibility = "hidden"; ov.hidden.push(e); }
      }
      ov.lines.set(index, style);
    }
    ov.dirty = true;
    return true;
  };
  const paintHeatmap = (fig, index, flat, shape) => {
    const gd = fig.div;
    const full = gd._fullData && gd._fullData[index];
    if (!full || full.type !== "heatmap" || !gd.calcdata || !gd.calcdata[index]) return false;
    const [rows, cols] = shape;
    const cd0 = gd.calcdata[index][0];
    if (!cd0.z || cd0.z.length !== rows || (cd0.z[0] || []).length !== cols) return false;
    const lut = colorLut(full.colorscale);
    const zmin = full.zmin, zmax = full.zmax;
    if (!lut || !(zmax > zmin)) return false;
    if (fig.spec.highlight) return paintImage(fig, index, flat, shape, lut, zmin, zmax);
    const ov = overlayFor(fig, full);
    if (!ov) return false;
    let hm = ov.heat.get(index);
    if (!hm || hm.rows !== rows || hm.cols !== cols) {
      // where the bricks go, in the overlay's pixels (plotly's calcdata has their edges)
      const xe = edges(cd0.x, cols), ye = edges(cd0.y, rows);
      if (!xe || !ye || !uniform(cd0.x) || !uniform(cd0.y)) return false;
      const x0 = ov.xa.c2p(xe[0]), x1 = ov.xa.c2p(xe[xe.length - 1]);
      const y0 = ov.ya.c2p(ye[0]), y1 = ov.ya.c2p(ye[ye.length - 1]);
      if (![x0, x1, y0, y1].every(isNum)) return false;
      const cells = document.createElement("canvas");
      cells.width = cols;
      cells.height = rows;
      // bitmap row 0 is the last row of z (the top of an upward y axis)
      hm = { cells, cellsCtx: cells.getContext("2d"), image: new ImageData(cols, rows), rows,
             cols, x: x0, w: x1 - x0, y: y1, h: y0 - y1 };
      if (!fig.images) fig.images = heatmapImages(gd);
      const img = fig.images.get(index);
      if (img) { // exactly where plotly put its image (it rounds to whole pixels)
        const [ix, iy, iw, ih] = ["x", "y", "width", "height"].map(
          (k) => parseFloat(img.getAttribute(k)));
        if ([ix, iy, iw, ih].every(isNum)) {
          Object.assign(hm, { x: hm.w > 0 ? ix : ix + iw, w: Math.sign(hm.w) * iw,
                              y: hm.h > 0 ? iy : iy + ih, h: Math.sign(hm.h) * ih });
        }
      }
      ov.heat.set(index, hm);
    }
    colour(hm.image, flat, rows, cols, lut, zmin, zmax, false);
    hm.cellsCtx.putImageData(hm.image, 0, 0);
    ov.dirty = true;
    cd0.z = fig.data[index].z; // hover reads the new values
    return true;
  };
  // Figures with marks drawn over their cells (the unrolled network's boxes and arrows) keep
  // plotly's <image> and get a new PNG of the cells instead: dearer, but nothing is covered.
  const paintImage = (fig, index, flat, shape, lut, zmin, zmax) => {
    const gd = fig.div;
    if (!fig.images) fig.images = heatmapImages(gd);
    const img = fig.images.get(index);
    const cd0 = gd.calcdata[index][0];
    if (!img || !uniform(cd0.x) || !uniform(cd0.y)) return false;
    const full = gd._fullData[index];
    const xa = gd._fullLayout[axisName(full.xaxis)], ya = gd._fullLayout[axisName(full.yaxis)];
    const [rows, cols] = shape;
    if (!fig.png || fig.png.width !== cols || fig.png.height !== rows) {
      fig.png = document.createElement("canvas");
      fig.png.width = cols;
      fig.png.height = rows;
    }
    const ctx = fig.png.getContext("2d");
    const image = ctx.createImageData(cols, rows);
    colour(image, flat, rows, cols, lut, zmin, zmax, xa && xa.range[0] > xa.range[1],
           ya && ya.range[0] > ya.range[1]);
    ctx.putImageData(image, 0, 0);
    img.setAttribute("href", fig.png.toDataURL("image/png"));
    img.removeAttribute("xlink:href");
    img.setAttribute("preserveAspectRatio", "none");
    img.style.imageRendering = "pixelated";
    cd0.z = fig.data[index].z;
    return true;
  };
  let lastAckAt = -Infinity;
  let unacked = null; // the newest frame drawn but not yet acknowledged
  let ackTimer = null;
  const ack = (frame) => {
    unacked = null;
    lastAcked = frame.msg.seq;
    lastAckAt = performance.now();
    const epoch = (t) => (performance.timeOrigin + t) / 1000;
    model.send({ type: "drawn", seq: frame.msg.seq, sent: frame.msg.sent,
                 arrived: epoch(frame.at), drawing: (frame.drawn - frame.at) / 1000,
                 acked: epoch(lastAckAt) });
  };
  const ackLater = (frame, interval) => {
    unacked = frame;
    const wait = lastAckAt + interval - performance.now();
    if (wait <= 0) { ack(frame); return; }
    if (ackTimer !== null) return;
    ackTimer = setTimeout(() => {
      ackTimer = null;
      if (!closed && unacked && unacked.msg.seq > lastAcked) ack(unacked);
    }, wait);
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
      frame.drawn = performance.now();
      localMs = 0.8 * localMs + 0.2 * (frame.drawn - frame.at);
      root.dataset.localMs = localMs.toFixed(1);
      // Every ack is a shell message that the kernel wraps in two status messages (and
      // JupyterLab redraws its busy indicators for each): while training at full speed the
      // kernel asks for an ack at most every `ack_after` s. A frame drawn sooner is acked by a
      // timer at the end of that interval, unless a later ack covered it.
      if (!closed) ackLater(frame, 1000 * (frame.msg.ack_after || 0));
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
    if (ackTimer !== null) clearTimeout(ackTimer);
    for (const off of cleanups) off();
    for (const fig of Object.values(figs)) Plotly.purge(fig.div);
  };
}

export default { render };
