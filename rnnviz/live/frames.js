// rnnviz dashboard, part 5 of 6: frames. A frame from the kernel is decoded (decodePart),
// applied to the figures' data (applyFrame: painted on canvas overlays, or a full plotly
// redraw at most every SLOW_MS), then acknowledged. Only the newest frame is kept (latest
// wins).
//
// Protocol (see _sender.py): {type: "frame", seq, step, sent, trace_step, parts, readout?,
// reset?, ack_after?} with binary buffers; each part is {fig, trace, key, value} (JSON),
// {fig, trace, key, shape, buffer} (a float32 array in buffers[buffer]), a heatmap's
// colour codes {..., codes: [zmin, zmax], missing?} (see colourCodes), or layout changes
// {fig, layout: {"dotted.path": value}} (see applyLayout). After drawing we send
// {type: "drawn", seq}, which frees the kernel's window of frames in flight: a bounded
// window, never a backlog.

// ---- decoding: the only code that knows how numbers travel
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

// A heatmap's colour codes (see rnnviz/live/_wire.py): one byte k per cell over
// part.codes = [zmin, zmax], decoded to zmin + k (zmax - zmin) / 255, NaN where the bit mask
// of missing cells (buffers[part.missing]) is set. The codes stay on the array (.codes, .lo,
// .hi): painted with the same colour range they are the lookup table's entries (paint.js).
function bytesOf(view) { // a DataView (or ArrayBuffer) -> Uint8Array on the same memory
  return new Uint8Array(view.buffer || view, view.byteOffset || 0, view.byteLength);
}
function colourCodes(part, buffers) {
  const bytes = bytesOf(buffers[part.buffer]);
  const [lo, hi] = part.codes;
  const step = (hi - lo) / 255;
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = lo + bytes[i] * step;
  if (part.missing !== undefined) {
    const mask = bytesOf(buffers[part.missing]);
    for (let i = 0; i < out.length; i++) if (mask[i >> 3] & (1 << (i & 7))) out[i] = NaN;
  }
  return Object.assign(out, { codes: bytes, lo, hi });
}

// One part -> {value} for plotly's trace[key], plus {flat, shape} for arrays (row-major).
function decodePart(part, buffers) {
  if (part.buffer === undefined) return { value: part.value, flat: null, shape: null };
  const flat = part.codes ? colourCodes(part, buffers) : floats(buffers[part.buffer]);
  return { value: shaped(flat, part.shape), flat, shape: part.shape };
}

// ---- layout parts: {"title.text": ..., "coloraxis3.cmax": ...} (a title naming the step t,
// a shared colour axis). They go into the figure's spec too (layoutFor rebuilds the layout
// from it on every resize and theme switch) and into its narrow variant's override of the
// same key, wrapped as that one was (_narrow.py: a title breaks at its first " — " or " · ").
function setPath(obj, path, value) { // returns whether the value changed
  const keys = path.split(".");
  const last = keys.pop();
  let d = obj;
  for (const k of keys) {
    if (d[k] === null || typeof d[k] !== "object") d[k] = {};
    d = d[k];
  }
  const changed = JSON.stringify(d[last]) !== JSON.stringify(value);
  d[last] = value;
  return changed;
}
function wrapLike(old, text) {
  if (typeof old !== "string" || !old.includes("<br>") || typeof text !== "string") return text;
  for (const sep of [" — ", " · "]) {
    const at = text.indexOf(sep);
    if (at >= 0) return `${text.slice(0, at)}<br>${text.slice(at + sep.length)}`;
  }
  return text;
}
function getPath(obj, path) {
  let v = obj;
  for (const k of path.split(".")) v = v !== null && typeof v === "object" ? v[k] : undefined;
  return v;
}
function applyLayout(fig, changes) { // returns whether the drawn layout changed
  let changed = false;
  const narrow = fig.spec.narrow ? fig.spec.narrow.layout : null;
  for (const [path, value] of Object.entries(changes)) {
    setPath(fig.spec.layout, path, value);
    let shown = value;
    if (narrow && narrow[path.split(".")[0]]) { // the narrow variant overrides this key
      setPath(narrow, path, wrapLike(getPath(narrow, path), value));
      if (fig.narrow) shown = getPath(narrow, path);
    }
    if (setPath(fig.layout, path, shown)) changed = true;
  }
  return changed;
}

// ---- applying: new numbers into the figures' data, painted fast where possible
// A frame whose heatmaps keep their colour range and whose curves stay inside their axes is
// painted directly on canvas overlays (paint.js): well under a millisecond per figure. A full
// plotly redraw costs 50-100 ms in JupyterLab, so figures that need one (an axis that must
// grow) are redrawn at most every SLOW_MS, and a new colour range (painted at once) redraws
// its colour bar within BAR_MS.
async function applyFrame(dash, { msg, buffers }) {
  const { figs, stats } = dash;
  const why = (fig, reason) => { // diagnostics: why a figure needed a full redraw
    const k = `${fig.div.dataset.fig} ${reason}`;
    stats.why[k] = (stats.why[k] || 0) + 1;
  };
  const full = new Set();
  if (msg.reset) { // a new run: every axis starts again from the new data
    for (const fig of Object.values(figs)) {
      fig.layout = layoutFor(fig, dash.model.get("theme"));
      fig.lastFull = -Infinity;
      full.add(fig);
    }
  }
  const speed = msg.reset ? 0 : (dash.model.get("status") || {}).steps_per_s || 0;
  for (const fig of Object.values(figs)) fig.stepsPerS = speed; // the step axes' headroom
  const heat = [];
  const lines = new Map(); // "fig/trace" -> {fig, index}
  const bars = new Set(); // figures with a new colour range (their colour bars: BAR_MS)
  for (const part of msg.parts) {
    const fig = figs[part.fig];
    if (fig && part.layout) {
      if (applyLayout(fig, part.layout)) { why(fig, "layout"); full.add(fig); }
      continue;
    }
    if (!fig || !fig.data[part.trace]) continue;
    const trace = fig.data[part.trace];
    const { value, flat, shape } = decodePart(part, buffers);
    if (!flat && JSON.stringify(trace[part.key]) === JSON.stringify(value)) continue;
    trace[part.key] = value;
    if (part.key === "z" && trace.type === "heatmap" && flat && shape.length === 2) {
      heat.push({ fig, index: part.trace, flat, shape });
    } else if ((part.key === "x" || part.key === "y") && trace.type === "scatter") {
      lines.set(`${part.fig}/${part.trace}`, { fig, index: part.trace });
    } else if ((part.key === "zmin" || part.key === "zmax") && trace.type === "heatmap") {
      bars.add(fig); // the cells are painted in the new range (paintHeatmap reads fig.data)
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
    } else {
      stats.fast += 1;
    }
  }
  const t = dash.model.get("t");
  for (const fig of Object.values(figs)) {
    if (full.has(fig) || !fig.overlays) continue;
    for (const ov of fig.overlays.values()) if (ov.dirty) drawOverlay(fig, ov, t);
  }
  stats.fastMs += performance.now() - fastStart;
  const due = [];
  for (const fig of full) {
    if (now - fig.lastFull >= SLOW_MS || !fig.drawnOnce) due.push(fig);
    else [fig.stale, fig.dueAt] = [true, Math.min(fig.dueAt, fig.lastFull + SLOW_MS)];
  }
  for (const fig of bars) {
    if (full.has(fig)) continue;
    if (!fig.stale) why(fig, "colour range");
    fig.stale = true;
    fig.dueAt = Math.min(fig.dueAt, Math.max(now + BAR_MS, fig.lastFull + SLOW_MS));
  }
  await Promise.all(due.map((fig) => fullDraw(dash, fig, t)));
  redrawStaleLater(dash);
  if (msg.readout) dash.readout = msg.readout;
  showT(dash.model, dash.ui, dash.readout);
}

// ---- receiving and acknowledging
// Draw the newest frame that arrived (older undrawn ones are dropped), then ack it. Every
// ack is a shell message that the kernel wraps in two status messages (and JupyterLab
// redraws its busy indicators for each): while training at full speed the kernel asks for
// an ack at most every `ack_after` s. A frame drawn sooner is acked by a timer at the end of
// that interval, unless a later ack covered it. Timings go into data-* attributes of the
// root (benchmarks and browser tests read them).
function receiveFrames(dash) {
  const { model, stats } = dash;
  const root = dash.ui.root;
  let pending = null;
  let drawing = false;
  let lastAcked = -Infinity; // seq of the last frame acknowledged
  let lastAckAt = -Infinity;
  let unacked = null; // the newest frame drawn but not yet acknowledged
  let frames = 0;
  let drawMs = 0;
  let localMs = 0; // from a frame's arrival to its drawing
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
    if (dash.ackTimer !== null) return;
    dash.ackTimer = setTimeout(() => {
      dash.ackTimer = null;
      if (!dash.closed && unacked && unacked.msg.seq > lastAcked) ack(unacked);
    }, wait);
  };
  const drawLatest = async () => {
    if (dash.closed) return;
    const frame = pending;
    pending = null;
    const start = performance.now();
    try {
      await applyFrame(dash, frame);
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
      if (!dash.closed) ackLater(frame, 1000 * (frame.msg.ack_after || 0));
      if (pending && !dash.closed) requestAnimationFrame(drawLatest);
      else drawing = false;
    }
  };
  dash.listen("msg:custom", (msg, buffers) => {
    if (!msg || msg.type !== "frame") return;
    pending = { msg, buffers, at: performance.now() }; // latest wins: older undrawn dropped
    // Idle: draw now (waiting for the next animation frame adds ~8 ms to every round trip);
    // frames that arrive during a draw wait for the next animation frame.
    if (!drawing) { drawing = true; drawLatest(); }
  });
  model.send({ type: "hello" }); // a new view: the kernel sends a frame of the current state
}
