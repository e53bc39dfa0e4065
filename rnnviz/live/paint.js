// rnnviz dashboard, part 2 of 6: painting frames without a full plotly redraw.
//
// Pure helpers on plotly's drawn figures (no widget state): axis ranges, colour lookup
// tables, and the canvas overlays that show a new frame's heatmaps and curves in well under a
// millisecond. What plotly drew is read through PlotlyAdapter (plotly_adapter.js, part 1).
// Heatmaps with marks over their cells are painted in place instead (in_place.js, the next
// part: paintHeatmap hands them to its paintInPlace).

const CURSOR = "#E69F00";
const CURSOR_OPACITY = 0.8; // explicit: a template's shape default (0.3) is too faint to project

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

function edges(values, n) { // brick edges from plotly's bricks (it holds edges or centres)
  if (!values || values.length === n + 1) return values;
  if (values.length !== n || n < 2) return null;
  const half = (values[1] - values[0]) / 2;
  return [values[0] - half, values[n - 1] + half];
}

// The lookup-table entry of every cell: a frame's colour codes when they were made for this
// colour range (frames.js: decodePart; rnnviz/live/_wire.py), else computed from the values
// exactly as the kernel computes the codes. -1: a missing cell (transparent).
function entries(flat, zmin, zmax) {
  const codes = flat.codes && flat.lo === zmin && flat.hi === zmax ? flat.codes : null;
  const scale = 255 / (zmax - zmin);
  const out = new Int16Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (!Number.isFinite(v)) out[i] = -1;
    else out[i] = codes ? codes[i] : Math.max(0, Math.min(255, Math.round((v - zmin) * scale)));
  }
  return out;
}

function colour(image, flat, rows, cols, lut, zmin, zmax) {
  // z (rows x cols, row 0 at the bottom of an upward y axis) -> RGBA pixels (row 0 on top)
  const px = image.data;
  const k = entries(flat, zmin, zmax);
  for (let r = 0; r < rows; r++) {
    const o0 = 4 * (rows - 1 - r) * cols;
    for (let c = 0; c < cols; c++) {
      const e = k[r * cols + c], o = o0 + 4 * c;
      if (e < 0) { px[o + 3] = 0; continue; }
      px[o] = lut[4 * e]; px[o + 1] = lut[4 * e + 1]; px[o + 2] = lut[4 * e + 2]; px[o + 3] = 255;
    }
  }
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

const AHEAD_S = 10; // an axis of training steps has room for this many seconds of training

function growRanges(fig) {
  // Fixed axis ranges with room to grow into, so most frames only move the curves: x against
  // training step gets 100% headroom, and at least AHEAD_S seconds of training at the speed
  // the last frame reported (fig.stepsPerS), so a fast run does not redraw it every second;
  // log y axes (gradient norms, which mostly shrink as training goes) get two decades below
  // and one above.
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
      range: [lo, lo + Math.max(2 * (hi - lo), 100, AHEAD_S * (fig.stepsPerS || 0))],
      autorange: false,
    });
  }
  for (const [ax, [lo, hi]] of Object.entries(ys)) { // gradient norms: they mostly shrink
    const range = [Math.floor(lo) - 2, Math.ceil(hi) + 1];
    fig.layout[ax] = Object.assign({}, fig.layout[ax], {
      range, autorange: false,
      dtick: Math.max(1, Math.ceil((range[1] - range[0]) / 6)), // <= ~7 decade labels
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

// Overlays. Between full redraws, what changed is drawn on one <canvas> per subplot, laid
// over its plot area: above plotly's SVG (so the SVG is never touched, re-encoded or
// re-rasterised) and below plotly's hover layer and annotations. A heatmap's cells go into
// a cols x rows bitmap (one pixel per cell) that is scaled onto the overlay; a curve is
// drawn from fig.data in the style plotly gave it, and plotly's own path for it is hidden.
// The time cursor is drawn last, as plotly draws it above the data. Any plotly redraw (a
// full frame, a resize) drops the overlays: plotly's SVG then shows the same data, and the
// next frame lays new overlays on the new geometry.
function overlayFor(fig, full) {
  const key = `${full.xaxis || "x"} ${full.yaxis || "y"}`;
  if (!fig.overlays) fig.overlays = new Map();
  let ov = fig.overlays.get(key);
  if (ov) return ov;
  const gd = fig.div;
  const xa = PlotlyAdapter.axis(gd, full.xaxis), ya = PlotlyAdapter.axis(gd, full.yaxis);
  const svg = PlotlyAdapter.mainSvg(gd);
  if (!xa || !ya || !svg || !(xa.length > 0 && ya.length > 0)) return null;
  // on whole pixels (a layer at a fractional offset is snapped, shifting every mark), with
  // the plot area at (ox, oy) inside it
  const dpr = window.devicePixelRatio || 1;
  const left = Math.floor(xa.offset), top = Math.floor(ya.offset);
  const width = Math.ceil(xa.offset + xa.length) - left;
  const height = Math.ceil(ya.offset + ya.length) - top;
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
  ov = { canvas, ctx: canvas.getContext("2d"), xa, ya, dpr, ox: xa.offset - left,
         oy: ya.offset - top, heat: new Map(),
         lines: new Map(), hidden: [], cursor: timeAxis, dirty: false };
  fig.overlays.set(key, ov);
  return ov;
}
function drawOverlay(fig, ov, t) { // t: the time cursor
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
  ctx.setTransform(dpr, 0, 0, dpr, dpr * ox, dpr * oy); // plot-area pixels, as toPx gives
  ctx.beginPath();
  ctx.rect(0, 0, xa.length, ya.length);
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
      const px = xa.toPx(x), py = ya.toPx(y);
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
  ctx.restore();
  if (ov.cursor) { // plotly's cursor line is under the overlay: draw it again on top
    // plotly draws shapes with crisp edges: on whole device pixels
    const x = dpr * (ox + xa.toPx(t));
    const x0 = Math.round(x - 1.5 * dpr), x1 = Math.round(x + 1.5 * dpr);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = CURSOR_OPACITY;
    ctx.fillStyle = CURSOR;
    ctx.fillRect(x0, Math.round(dpr * oy), x1 - x0, Math.round(dpr * ya.length));
    ctx.globalAlpha = 1;
  }
}
function lineStyle(els, full) { // how plotly drew a curve, read back from its SVG
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
}
function paintLine(fig, index) {
  const gd = fig.div;
  const full = PlotlyAdapter.trace(gd, index);
  if (!full || full.type !== "scatter" || full.visible !== true) return false;
  const mode = full.mode || "";
  if (mode.includes("text") || (full.fill || "none") !== "none"
      || (mode.includes("lines") && (full.line || {}).shape !== "linear")) return false;
  const xs = fig.data[index].x, ys = fig.data[index].y;
  const xa = PlotlyAdapter.axis(gd, full.xaxis), ya = PlotlyAdapter.axis(gd, full.yaxis);
  if (!xa || !ya || !arrayish(xs) || !arrayish(ys) || xs.length !== ys.length) return false;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i], y = ys[i];
    if (!isNum(x) || !isNum(y) || (ya.type === "log" && !(y > 0))) continue;
    if (!inRange(xa, x) || !inRange(ya, y)) return false; // the axes must grow: full redraw
  }
  const ov = overlayFor(fig, full);
  if (!ov) return false;
  if (!ov.lines.has(index)) { // first time since plotly drew it: take over from its path
    if (!fig.lines) fig.lines = PlotlyAdapter.lineElements(gd);
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
}
function paintHeatmap(fig, index, flat, shape) {
  const gd = fig.div;
  const full = PlotlyAdapter.trace(gd, index);
  const cd0 = PlotlyAdapter.bricks(gd, index);
  if (!full || full.type !== "heatmap" || !cd0) return false;
  const [rows, cols] = shape;
  if (!cd0.z || cd0.z.length !== rows || (cd0.z[0] || []).length !== cols) return false;
  const lut = colorLut(full.colorscale);
  // the colour range of the data (a frame may have just changed it): what plotly will draw
  const own = fig.data[index];
  const zmin = isNum(own.zmin) ? own.zmin : full.zmin, zmax = isNum(own.zmax) ? own.zmax : full.zmax;
  if (!lut || !(zmax > zmin)) return false;
  if (fig.spec.highlight) return paintInPlace(fig, index, flat, shape, lut, zmin, zmax);
  const ov = overlayFor(fig, full);
  if (!ov) return false;
  let hm = ov.heat.get(index);
  if (!hm || hm.rows !== rows || hm.cols !== cols) {
    // where the bricks go, in the overlay's pixels (plotly computed their edges)
    const xe = edges(cd0.x, cols), ye = edges(cd0.y, rows);
    if (!xe || !ye || !uniform(cd0.x) || !uniform(cd0.y)) return false;
    const x0 = ov.xa.toPx(xe[0]), x1 = ov.xa.toPx(xe[xe.length - 1]);
    const y0 = ov.ya.toPx(ye[0]), y1 = ov.ya.toPx(ye[ye.length - 1]);
    if (![x0, x1, y0, y1].every(isNum)) return false;
    const cells = document.createElement("canvas");
    cells.width = cols;
    cells.height = rows;
    // bitmap row 0 is the last row of z (the top of an upward y axis)
    hm = { cells, cellsCtx: cells.getContext("2d"), image: new ImageData(cols, rows), rows,
           cols, x: x0, w: x1 - x0, y: y1, h: y0 - y1 };
    if (!fig.images) fig.images = PlotlyAdapter.heatmapImages(gd);
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
  colour(hm.image, flat, rows, cols, lut, zmin, zmax);
  hm.cellsCtx.putImageData(hm.image, 0, 0);
  ov.dirty = true;
  PlotlyAdapter.setHoverZ(gd, index, fig.data[index].z);
  return true;
}
