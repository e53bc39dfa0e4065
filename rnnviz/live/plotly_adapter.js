// rnnviz dashboard, part 1 of 6: the one place that knows plotly.js.
//
// Everything else (paint.js, figures.js, frames.js, ...) draws through PlotlyAdapter and
// never reads plotly's private state (gd._fullLayout, gd._fullData, gd.calcdata) or the
// structure of the SVG it draws. A plotly.js upgrade that moves those touches this file
// only. _assets.py joins the parts into one ES module, this one first.

// not plotly's "responsive" (it follows window resizes only): a ResizeObserver on every
// figure's slot re-lays it out (sidebar toggled, output collapsed, zoom, first shown)
const PLOTLY_CONFIG = { displayModeBar: false, responsive: false, scrollZoom: false };
const PLOTLY_KEY = "__rnnvizPlotly"; // the page-wide promise of plotly.js

function axisName(id) { // "x2" -> "xaxis2" (plotly's layout key of a trace's axis)
  return id ? `${id[0]}axis${id.slice(1)}` : "xaxis";
}

const PlotlyAdapter = {
  lib: null, // window.Plotly once loaded

  // plotly.js, once per page: asked from the kernel (it ships with the plotly package).
  load(model) {
    if (window.Plotly && window.Plotly.react) {
      this.lib = window.Plotly;
      return Promise.resolve(this.lib);
    }
    if (!window[PLOTLY_KEY]) {
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
    }
    return window[PLOTLY_KEY].then((lib) => { this.lib = lib; return lib; });
  },

  // ---- drawing
  newPlot(div, data, layout) { return this.lib.newPlot(div, data, layout, PLOTLY_CONFIG); },
  react(div, data, layout) { return this.lib.react(div, data, layout, PLOTLY_CONFIG); },
  purge(div) { if (this.lib) this.lib.purge(div); },
  onRedraw(div, fn) { div.on("plotly_afterplot", fn); }, // after any redraw, resizes too

  // ---- what plotly drew (valid until its next redraw)
  // An axis of a drawn figure: its plot-area offset and length in px, range (in axis units:
  // log10 for a log axis), type, and toPx(value) -> px from the axis' start.
  axis(gd, id) {
    const a = gd._fullLayout && gd._fullLayout[axisName(id)];
    if (!a) return null;
    return { offset: a._offset, length: a._length, range: a.range, type: a.type,
             toPx: (v) => a.c2p(v) };
  },
  // A trace's attributes as plotly resolved them (defaults filled in): type, visible, mode,
  // fill, line, marker, xaxis, yaxis, colorscale, zmin, zmax.
  trace(gd, index) { return (gd._fullData && gd._fullData[index]) || null; },
  // A heatmap's bricks as plotly computed them: {x, y} (edges or centres) and z.
  bricks(gd, index) {
    const cd = gd.calcdata && gd.calcdata[index];
    return cd && cd[0] ? { x: cd[0].x, y: cd[0].y, z: cd[0].z } : null;
  },
  setHoverZ(gd, index, z) { // hover labels read the new values (no redraw)
    const cd = gd.calcdata && gd.calcdata[index];
    if (cd && cd[0]) cd[0].z = z;
  },
  mainSvg(gd) { // the plot's SVG: overlays go right after it, under hover and annotations
    const container = gd.querySelector(".svg-container");
    return container && container.querySelector(":scope > svg.main-svg");
  },
  heatmapImages(gd) { // trace index -> the <image> plotly drew for it
    const map = new Map();
    for (const g of gd.querySelectorAll("g.hm")) {
      const cd = g.__data__;
      const img = g.querySelector("image");
      if (img && cd && cd[0] && cd[0].trace) map.set(cd[0].trace.index, img);
    }
    return map;
  },
  lineElements(gd) { // trace index -> the line <path> and marker <path>s plotly drew
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
  },
};
