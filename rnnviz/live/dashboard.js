// rnnviz dashboard, part 2 of 2: the widget (controls, status, figures, frames and acks).
// It uses the painting helpers of paint.js, joined before this file into one ES module.
//
// plotly.js figures fed by binary frames from the kernel.
//
// Protocol (see _widget.py): the figures arrive once in the "figures" trait; frames arrive
// as custom messages {type: "frame", seq, parts, readout} with Float32 buffers. Only the
// newest frame is kept (latest wins); after drawing it we send {type: "drawn", seq}, which
// frees the kernel's window of frames in flight: a bounded window, never a backlog.

const PLOTLY_KEY = "__rnnvizPlotly";
// not plotly's "responsive" (it follows window resizes only): a ResizeObserver on every
// figure's slot re-lays it out (sidebar toggled, output collapsed, zoom, first shown)
const CONFIG = { displayModeBar: false, responsive: false, scrollZoom: false };
const SPEEDS = [
  [0, "max"], [1, "1 step/frame"], [2, "2"], [5, "5"], [10, "10"], [50, "50"],
];
const SLOW_MS = 400; // figures that need a full plotly redraw get one at most this often

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
  let closed = false;
  const listen = (name, fn) => { model.on(name, fn); cleanups.push(() => model.off(name, fn)); };

  // 1. the frame of the dashboard: header, controls, status, figures
  const root = h("div", { className: "rnnviz-dashboard", dataset: { frames: "0", seq: "0" } });
  const title = h("div", { className: "rnnviz-title", textContent: model.get("title") });
  const status = h("div", { className: "rnnviz-status" });
  const note = h("div", { className: "rnnviz-note" });
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
  root.append(h("div", { className: "rnnviz-head" }, [title, status]), note, banner, controls,
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
    banner.textContent = msg; // the status line says "diverged"; the message says what to do
    banner.classList.toggle("rnnviz-error", st === "diverged" || msg.startsWith("error"));
    stepBtn.disabled = st === "diverged";
    play.disabled = st === "diverged";
  };
  const syncNote = () => {
    note.textContent = model.get("note");
    note.hidden = !model.get("note");
  };
  syncControls();
  syncStatus();
  syncNote();
  listen("change:note", syncNote);
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
  const clone = (v) => JSON.parse(JSON.stringify(v));
  // The layout of a figure for its slot: plotly's JSON, the narrow variant (stacked panels,
  // wrapped titles) below its width, the slot's width, and the theme's text colour read now.
  const baseLayout = (fig) => {
    const spec = fig.spec, narrow = fig.narrow ? spec.narrow : null;
    const layout = clone(spec.layout);
    if (narrow) {
      for (const [k, v] of Object.entries(narrow.layout)) {
        layout[k] = Object.assign({}, layout[k], v);
      }
      layout.annotations = clone(narrow.annotations);
    }
    spec.data.forEach((tr, i) => { // colour bars move with their stacked panels
      if (!tr.colorbar || !fig.data[i]) return;
      fig.data[i].colorbar = Object.assign({}, tr.colorbar,
                                           narrow ? narrow.colorbars[String(i)] || {} : {});
    });
    layout.height = narrow ? narrow.height : spec.layout.height || 400;
    if (fig.width > 0) { layout.width = fig.width; layout.autosize = false; }
    fig.dark = dark();
    if (model.get("theme") === "auto") {
      const fg = fig.dark ? "#e8e8e8" : "#222222";
      layout.font = Object.assign({}, layout.font, { color: fg });
    }
    fig.baseShapes = (layout.shapes || []).slice();
    fig.div.style.height = `${layout.height}px`; // fixed: redraws never move the page
    return layout;
  };
  const slotWidth = (div) => Math.floor(div.getBoundingClientRect().width);
  for (const name of model.get("figure_order")) {
    const spec = specs[name];
    const div = h("div", { className: `rnnviz-fig rnnviz-${spec.grid}`, dataset: { fig: name } });
    grid.append(div);
    const fig = {
      div, spec, data: clone(spec.data), layout: null, width: 0, narrow: false,
      baseShapes: [],
      lastFull: -Infinity, drawnOnce: false, stale: false, overlays: null, images: null,
    };
    figs[name] = fig;
  }
  for (const fig of Object.values(figs)) { // after all are in the grid: their slots' widths
    fig.width = slotWidth(fig.div);
    fig.narrow = !!(fig.spec.narrow && fig.width > 0 && fig.width < fig.spec.narrow.below);
    fig.layout = baseLayout(fig);
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

  // 3b. every figure fills its slot: laid out again whenever the slot's width changes (the
  // output first shown after Run All built it off-screen, a sidebar toggled, a resize or zoom)
  // and whenever JupyterLab's theme changes. After plotly's redraw the overlays are dropped
  // (plotly_afterplot) and the next frame paints new ones on plotly's new geometry.
  let fitQueued = false;
  let retries = 0;
  const fitAll = async () => {
    fitQueued = false;
    if (closed) return;
    const t = model.get("t");
    const todo = [];
    let missed = false;
    for (const fig of Object.values(figs)) {
      const w = slotWidth(fig.div);
      // hidden (JupyterLab detaches off-screen cells: done when it is shown), or unchanged
      if (w <= 0 && fig.dark !== dark()) missed = true;
      if (w <= 0 || (Math.abs(w - fig.width) < 1 && fig.dark === dark())) continue;
      fig.width = w;
      fig.narrow = !!(fig.spec.narrow && w < fig.spec.narrow.below);
      fig.layout = baseLayout(fig);
      todo.push(fig);
    }
    root.dataset.fits = String(Number(root.dataset.fits || 0) + (todo.length ? 1 : 0));
    // JupyterLab hides everything for a moment while it switches themes (too briefly for the
    // observers to notice it come back): look again a little later, for a few seconds
    retries = missed ? retries + 1 : 0;
    if (missed && retries <= 20) setTimeout(queueFit, 250);
    await Promise.all(todo.map((fig) => fullDraw(fig, t)));
  };
  const queueFit = () => {
    if (fitQueued || closed) return;
    fitQueued = true;
    requestAnimationFrame(() => fitAll());
  };
  const resizer = new ResizeObserver(queueFit);
  // shown again (scrolled to, a cell re-attached, JupyterLab's splash gone after a theme
  // switch): a figure that missed a change while hidden catches up
  const shown = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) queueFit();
  });
  for (const fig of Object.values(figs)) { resizer.observe(fig.div); shown.observe(fig.div); }
  cleanups.push(() => { resizer.disconnect(); shown.disconnect(); });
  if (model.get("theme") === "auto") {
    const themer = new MutationObserver(() => {
      queueFit(); // figures drawn in the other theme (hidden ones when they are shown)
    });
    themer.observe(document.body, { attributes: true,
                                    attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
    cleanups.push(() => themer.disconnect());
  }

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
  let localMs = 0; // from a frame's arrival to its drawing
  const stats = { fast: 0, full: 0, fastMs: 0, fullMs: 0, byFig: {}, why: {} };
  // A frame whose heatmaps keep their colour range and whose curves stay inside their axes
  // is painted directly on canvas overlays (overlayFor in paint.js): well under a millisecond
  // per figure. A full Plotly.react costs 50-100 ms in JupyterLab, so figures that need one
  // (an axis that must grow, a new colour range) are redrawn at most every SLOW_MS.
  const why = (fig, reason) => {
    const k = `${fig.div.dataset.fig} ${reason}`;
    stats.why[k] = (stats.why[k] || 0) + 1;
  };
  const applyFrame = async ({ msg, buffers }) => {
    const full = new Set();
    if (msg.reset) { // a new run: every axis starts again from the new data
      for (const fig of Object.values(figs)) {
        fig.layout = baseLayout(fig);
        fig.lastFull = -Infinity;
        full.add(fig);
      }
    }
    for (const fig of Object.values(figs)) { // training speed, for the step axes' headroom
      fig.stepsPerS = msg.live ? msg.live.steps_per_s : msg.reset ? 0 : fig.stepsPerS || 0;
    }
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
        flat = decodePart(part, buffers); // float32 or colour codes (paint.js)
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
    const t = model.get("t");
    for (const fig of Object.values(figs)) {
      if (full.has(fig) || !fig.overlays) continue;
      for (const ov of fig.overlays.values()) if (ov.dirty) drawOverlay(fig, ov, t);
    }
    stats.fastMs += performance.now() - fastStart;
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
