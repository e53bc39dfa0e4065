// rnnviz dashboard, part 2b (after paint.js): heatmaps painted in place, under the marks
// drawn over their cells. Uses paint.js (isNum, entries) and PlotlyAdapter.
//
// Figures with marks drawn over their cells (the unrolled network's boxes and arrows) get
// their cells painted in place: on a canvas inside plotly's SVG, in a <foreignObject> right
// after its heatmap <image> (which is hidden), so every mark stays above the cells and no PNG
// is encoded. The canvas has the image's size and place, and each brick covers the whole
// pixels plotly's own drawing gives it (its edges rounded as plotly rounds them), so uneven
// bricks (the unrolled view's strips and the gaps between them) look as plotly draws them.
const SVG_NS = "http://www.w3.org/2000/svg";
function brickEdges(values, n) { // every brick edge, from plotly's bricks (edges or centres)
  if (!values) return null;
  if (values.length === n + 1) return values;
  if (values.length !== n || n < 2) return null;
  const out = [1.5 * values[0] - 0.5 * values[1]];
  for (let i = 1; i < n; i++) out.push((values[i - 1] + values[i]) / 2);
  out.push(1.5 * values[n - 1] - 0.5 * values[n - 2]);
  return out;
}
function pixelBricks(ax, edges, origin, size) { // image pixel -> brick index (-1: none)
  const of = new Int32Array(size).fill(-1);
  const px = (v) => Math.max(0, Math.min(size, Math.round(ax.toPx(v) - origin)));
  for (let i = 0; i + 1 < edges.length; i++) {
    const a = px(edges[i]), b = px(edges[i + 1]);
    if (!isNum(a) || !isNum(b)) return null;
    for (let p = Math.min(a, b); p < Math.max(a, b); p++) of[p] = i;
  }
  return of;
}
function inPlaceCanvas(fig, index, rows, cols) {
  const gd = fig.div;
  if (!fig.images) fig.images = PlotlyAdapter.heatmapImages(gd);
  const img = fig.images.get(index);
  const full = PlotlyAdapter.trace(gd, index), cd0 = PlotlyAdapter.bricks(gd, index);
  if (!img || !full || !cd0 || full.xgap || full.ygap || full.zsmooth) return null;
  const xa = PlotlyAdapter.axis(gd, full.xaxis), ya = PlotlyAdapter.axis(gd, full.yaxis);
  const [ix, iy, iw, ih] = ["x", "y", "width", "height"].map(
    (k) => parseFloat(img.getAttribute(k)));
  const xe = brickEdges(cd0.x, cols), ye = brickEdges(cd0.y, rows);
  if (!xa || !ya || !xe || !ye || ![ix, iy, iw, ih].every(isNum) || !(iw > 0 && ih > 0)) {
    return null;
  }
  // the image's x, y are in the plot area's pixels, as toPx gives them
  const colOf = pixelBricks(xa, xe, ix, Math.round(iw));
  const rowOf = pixelBricks(ya, ye, iy, Math.round(ih));
  if (!colOf || !rowOf) return null;
  const fo = document.createElementNS(SVG_NS, "foreignObject");
  for (const [k, v] of [["x", ix], ["y", iy], ["width", iw], ["height", ih]]) {
    fo.setAttribute(k, String(v));
  }
  fo.setAttribute("class", "rnnviz-overlay rnnviz-in-place");
  const canvas = document.createElement("canvas");
  canvas.width = colOf.length;
  canvas.height = rowOf.length;
  Object.assign(canvas.style, { display: "block", width: "100%", height: "100%" });
  fo.append(canvas);
  img.after(fo);
  img.style.visibility = "hidden";
  const image = new ImageData(canvas.width, canvas.height);
  return { canvas: fo, ctx: canvas.getContext("2d"), image,
           pixels: new Uint32Array(image.data.buffer), colOf, rowOf, rows, cols,
           hidden: [img], heat: new Map(), lines: new Map(), dirty: false };
}
function paintInPlace(fig, index, flat, shape, lut, zmin, zmax) {
  const [rows, cols] = shape;
  const key = `in place ${index}`;
  if (!fig.overlays) fig.overlays = new Map();
  let ov = fig.overlays.get(key);
  if (ov && (ov.rows !== rows || ov.cols !== cols)) {
    ov.canvas.remove();
    for (const e of ov.hidden) e.style.visibility = "";
    ov = null;
  }
  if (!ov) {
    ov = inPlaceCanvas(fig, index, rows, cols);
    if (!ov) return false;
    fig.overlays.set(key, ov);
  }
  // the colour of every cell (RGBA as one little-endian 32-bit word), then of every pixel
  const k = entries(flat, zmin, zmax);
  const cells = new Uint32Array(k.length);
  for (let i = 0; i < k.length; i++) {
    const e = 4 * k[i];
    cells[i] = e < 0 ? 0 : (lut[e] | (lut[e + 1] << 8) | (lut[e + 2] << 16) | (255 << 24)) >>> 0;
  }
  const { pixels, colOf, rowOf } = ov;
  const W = colOf.length;
  for (let y = 0; y < rowOf.length; y++) {
    const r = rowOf[y];
    if (y > 0 && r === rowOf[y - 1]) { pixels.copyWithin(y * W, (y - 1) * W, y * W); continue; }
    const o = y * W, base = r * cols;
    for (let x = 0; x < W; x++) {
      const c = colOf[x];
      pixels[o + x] = r < 0 || c < 0 ? 0 : cells[base + c];
    }
  }
  ov.ctx.putImageData(ov.image, 0, 0);
  PlotlyAdapter.setHoverZ(fig.div, index, fig.data[index].z);
  return true;
}
