/* cnncalc report page. Builds everything from the JSON data element with DOM calls and textContent:
   no markup is ever parsed from the data. Libraries: dagre (graph layout), uPlot (bar charts). */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("cnncalc-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  var t0 = performance.now();

  // ---- DOM helpers -------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    append(e, children);
    return e;
  }
  function sv(tag, attrs, children) {
    var e = document.createElementNS(SVGNS, tag);
    setAttrs(e, attrs);
    append(e, children);
    return e;
  }
  function setAttrs(e, attrs) {
    if (!attrs) return;
    for (var k in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") e.textContent = String(v);
      else e.setAttribute(k, String(v));
    }
  }
  function append(e, children) {
    if (children === null || children === undefined) return;
    if (!Array.isArray(children)) children = [children];
    for (var i = 0; i < children.length; i++) {
      var c = children[i];
      if (c === null || c === undefined || c === false) continue;
      e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  // ---- numbers: exact integers (larger than 2^53 they arrive as decimal strings) ------------
  function num(v) { return typeof v === "string" ? Number(v) : (v === null || v === undefined ? 0 : v); }
  function commas(v) {
    var s = String(v), neg = s.charAt(0) === "-";
    if (neg) s = s.slice(1);
    return (neg ? "-" : "") + s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function cnt(v) { return num(v) === 0 ? "-" : commas(v); }  // as `cnncalc show`'s table
  function human(v) {
    var n = num(v), units = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "K"]];
    for (var i = 0; i < units.length; i++) if (Math.abs(n) >= units[i][0]) return (n / units[i][0]).toFixed(2) + units[i][1];
    return String(n);
  }
  function axisLabel(v) {  // 0, 500, 1.5K, 20M, 3G: short tick labels (the exact values are in the legend)
    var units = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "K"]];
    for (var i = 0; i < units.length; i++) if (Math.abs(v) >= units[i][0]) return String(+(v / units[i][0]).toPrecision(3)) + units[i][1];
    return String(+v.toPrecision(3));
  }
  function shape(s) { return s ? s.join("x") : ""; }
  function pct(part, whole) { return num(whole) ? (100 * num(part) / num(whole)).toFixed(1) + "%" : ""; }

  function family(type) {
    if (/conv/.test(type)) return "conv";
    if (type === "dense") return "dense";
    if (/pool/.test(type)) return "pool";
    if (/norm/.test(type)) return "norm";
    if (type === "add" || type === "concat" || type === "multiply") return "merge";
    if (/relu|elu|gelu|sigmoid|tanh|silu|swish|softmax/.test(type)) return "act";
    return "other";
  }

  // ---- the model of one analysed spec --------------------------------------------------------
  function Model(rep) {
    var m = this, layers = rep.doc.layers;
    m.rep = rep;
    m.doc = rep.doc;
    m.layers = layers;
    m.n = layers.length;
    m.index = new Map();
    layers.forEach(function (l, i) { m.index.set(l.name, i); });
    // the network's inputs (source nodes "I0", "I1", ...) and outputs (sink nodes "O0", ... below their layers)
    m.ins = rep.inputs;
    m.outs = rep.outputs;
    var inIndex = m.inIndex = new Map();
    m.ins.forEach(function (x, k) { inIndex.set(x.name, k); });
    m.outputOf = new Map();  // layer index -> the indices of the outputs it makes
    m.outs.forEach(function (o, k) {
      if (!m.outputOf.has(o.layer)) m.outputOf.set(o.layer, []);
      m.outputOf.get(o.layer).push(k);
    });
    // what each layer reads: a layer's index, or -1 - k for the network's input k
    m.inputs = layers.map(function (l) {
      return l.inputs.map(function (s) { return m.index.has(s) ? m.index.get(s) : -1 - (inIndex.has(s) ? inIndex.get(s) : 0); });
    });
    m.groups = rep.groups;
    m.layerGroup = rep.layer_group;
    m.conv = {};
    rep.conventions.forEach(function (c) { m.conv[c.name] = c; });
    // each group's depth and each layer's chain of groups, outermost first
    m.depth = m.groups.map(function () { return 0; });
    m.groups.forEach(function (g, k) { m.depth[k] = g.parent < 0 ? 0 : m.depth[g.parent] + 1; });
    m.chain = layers.map(function (l, i) {
      var c = [], g = m.layerGroup[i];
      while (g >= 0) { c.push(g); g = m.groups[g].parent; }
      return c.reverse();
    });
    // children of each group (key -1: the top level), in the order of their first layer
    m.children = new Map();
    m.children.set(-1, m.ins.map(function (x, k) { return "I" + k; }));
    m.groups.forEach(function (g, k) { m.children.set(k, []); });
    var seen = new Set();
    var sinks = [];  // [top-level unit, output index]: each output's node follows the unit that makes it
    layers.forEach(function (l, i) {
      var c = m.chain[i], parent = -1;
      for (var d = 0; d <= c.length; d++) {
        var u = d < c.length ? "G" + c[d] : "L" + i;
        if (!seen.has(u)) { seen.add(u); m.children.get(parent).push(u); }
        parent = c[d];
      }
      (m.outputOf.get(i) || []).forEach(function (k) { sinks.push([c.length ? "G" + c[0] : "L" + i, k]); });
    });
    var top = m.children.get(-1);
    sinks.sort(function (x, y) { return x[1] - y[1]; }).forEach(function (sk) {
      var at = top.indexOf(sk[0]) + 1;
      while (at < top.length && top[at].charAt(0) === "O") at++;
      top.splice(at, 0, "O" + sk[1]);
    });
    // local edges of each group (between its child units, and from/to its ports)
    m.edges = new Map();
    m.children.forEach(function (v, k) { m.edges.set(k, new Set()); });
    // which reads (source layer > layer, a network input as -1 - k) each drawn edge carries: to mark a rewired one
    m.carry = new Map();
    var add = function (g, a, b, s, t) {
      if (a === b) return;
      m.edges.get(g).add(a + ">" + b);
      var key = g + "|" + a + ">" + b;
      if (!m.carry.has(key)) m.carry.set(key, []);
      m.carry.get(key).push(s + ">" + t);
    };
    layers.forEach(function (l, t) {
      var ct = m.chain[t];
      m.inputs[t].forEach(function (s) {
        var cs = s < 0 ? [] : m.chain[s], c = 0;
        while (c < cs.length && c < ct.length && cs[c] === ct[c]) c++;
        var lca = c > 0 ? ct[c - 1] : -1;
        add(lca, s < 0 ? "I" + (-1 - s) : m.unitIn(lca, s), m.unitIn(lca, t), s, t);
        for (var d = c; d < ct.length; d++) add(ct[d], "PI:" + s, m.unitIn(ct[d], t), s, t);  // a port per outside source
        for (d = c; d < cs.length; d++) add(cs[d], m.unitIn(cs[d], s), "PO", s, t);
      });
    });
    m.outs.forEach(function (o, k) {
      var cs = m.chain[o.layer];
      add(-1, m.unitIn(-1, o.layer), "O" + k, o.layer, "O" + k);
      for (var d = 0; d < cs.length; d++) add(cs[d], m.unitIn(cs[d], o.layer), "PO", o.layer, "O" + k);
    });
    // per-layer numbers the page sorts and draws
    m.totals = rep.doc.totals;
    m.memory = rep.doc.memory;
  }
  Model.prototype.unitIn = function (g, i) {  // the child unit of group g (-1: top) that holds layer i
    var c = this.chain[i], d = g < 0 ? 0 : this.depth[g] + 1;
    return d < c.length ? "G" + c[d] : "L" + i;
  };
  Model.prototype.sourceName = function (s) {  // what a read comes from: a layer, or (s < 0) a network input
    return s < 0 ? this.ins[-1 - s].name : this.layers[s].name;
  };
  Model.prototype.localName = function (i) {
    var g = this.layerGroup[i], name = this.layers[i].name;
    if (g < 0) return name;
    var prefix = this.groups[g].name + ".";
    return name.indexOf(prefix) === 0 ? name.slice(prefix.length) : name;
  };
  Model.prototype.groupLocalName = function (k) {
    var g = this.groups[k], p = g.parent;
    if (p < 0) return g.name;
    var prefix = this.groups[p].name + ".";
    return g.name.indexOf(prefix) === 0 ? g.name.slice(prefix.length) : g.name;
  };
  Model.prototype.groupSum = function (k, what, conv) {
    var ls = this.groups[k].layers, s = 0, arr = what === "params" ? null : this.conv[conv][what];
    for (var i = 0; i < ls.length; i++) s += arr ? num(arr[ls[i]]) : num(this.layers[ls[i]].params);
    return s;
  };
  Model.prototype.groupOutput = function (k) {  // the block's output: its last layer
    var ls = this.groups[k].layers;
    return ls[ls.length - 1];
  };

  // ---- the graph: dagre lays out each expanded block and each branching run; runs joined by a single
  //      edge are stacked into columns as tall as the view, so long networks fit the screen ---------
  var NW = 188, NH = 50, GAP = 16, COLGAP = 46, PAD = 10, HEAD = 24, PORT = 10, INH = 34;

  var graphs = 0;
  function Graph(model, host, opts) {
    var gr = this;
    gr.arrow = "arrow-" + (++graphs);  // one marker per graph: a page may hold three (compare), some hidden
    gr.m = model;
    gr.opts = opts;
    gr.host = host;
    gr.expanded = new Uint8Array(model.groups.length);
    var collapse = model.n > (opts.expandUpTo || 60);
    if (!collapse) gr.expanded.fill(1);
    gr.cache = new Map();
    gr.scale = 1;
    gr.marks = opts.marks || null;  // layer index -> "changed" | "added" | "removed"
    gr.hl = [];
    gr.sel = -1;
    gr.toolbar = el("div", {"class": "g-tools"}, [
      button("Expand all", function () { gr.setAll(1); }, "expand-all"),
      button("Collapse all", function () { gr.setAll(0); }, "collapse-all"),
      button("−", function () { gr.zoom(1 / 1.25); }, "zoom-out", "Zoom out"),
      button("+", function () { gr.zoom(1.25); }, "zoom-in", "Zoom in"),
      button("Fit", function () { gr.fit(); }, "fit", "Fit the whole graph"),
      el("span", {"class": "g-hint", text: "click a block to open it, its title bar to close it"})
    ]);
    gr.view = el("div", {"class": "g-view"});
    gr.svg = sv("svg", {"class": "graph", role: "img", "aria-label": "layer graph"});
    gr.view.appendChild(gr.svg);
    append(host, [gr.toolbar, gr.view]);
    gr.svg.addEventListener("click", function (ev) { gr.onClick(ev); });
    gr.svg.addEventListener("mouseover", function (ev) { gr.onOver(ev); });
    gr.svg.addEventListener("mouseleave", function () { if (gr.opts.onHover) gr.opts.onHover(null); });
    var resizing = 0, lastH = 0;
    window.addEventListener("resize", function () {  // columns are as tall as the view: lay out again
      clearTimeout(resizing);
      resizing = setTimeout(function () {
        if (!gr.box || gr.view.clientHeight === lastH || !gr.view.clientHeight) return;
        lastH = gr.view.clientHeight;
        gr.cache.clear();
        gr.draw();
      }, 150);
    });
    var pending = false;
    gr.view.addEventListener("scroll", function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; gr.cull(false); });
    });
  }
  function button(label, fn, name, title) {
    var b = el("button", {type: "button", "class": "btn", "data-action": name, title: title || null, text: label});
    b.addEventListener("click", fn);
    return b;
  }
  Graph.prototype.height = function () {
    return Math.max(360, (this.view.clientHeight || 600) / this.scale - 2 * PAD);
  };
  Graph.prototype.setAll = function (v) {
    this.expanded.fill(v);
    this.cache.clear();
    this.draw();
  };
  Graph.prototype.toggle = function (k, v) {
    this.expanded[k] = v === undefined ? 1 - this.expanded[k] : v;
    for (var g = k; g >= 0; g = this.m.groups[g].parent) this.cache.delete(g);
    this.cache.delete(-1);
  };
  Graph.prototype.reveal = function (i) {  // open every block around layer i; true if something changed
    var c = this.m.chain[i], changed = false;
    for (var d = 0; d < c.length; d++) if (!this.expanded[c[d]]) { this.toggle(c[d], 1); changed = true; }
    return changed;
  };
  Graph.prototype.zoom = function (f) {
    this.scale = Math.min(2, Math.max(0.2, this.scale * f));
    this.cache.clear();
    this.draw();
  };
  Graph.prototype.fit = function () {  // the largest scale (20% to 100%) at which the whole graph fits the width
    var W = (this.view.clientWidth || 800) - 8, lo = 0.2, hi = 1, gr = this;
    var fits = function (s) {
      gr.scale = s;
      gr.cache.delete(-1);  // the columns depend on the view's height at this scale; the blocks barely do
      return (gr.layout(-1).w + 2 * PAD) * s <= W;
    };
    if (!fits(hi)) {
      for (var k = 0; k < 7; k++) { var mid = (lo + hi) / 2; if (fits(mid)) lo = mid; else hi = mid; }
      this.scale = Math.floor(lo * 100) / 100;
    }
    this.cache.clear();
    this.draw();
  };
  Graph.prototype.size = function (u, ports) {
    var c = u.charAt(0);
    if (c === "L") return [NW, NH];
    if (c === "I" || c === "O") return [NW, INH];
    if (c === "P") return u.indexOf("PI:") === 0 && ports > 1 ? [Math.min(150, 14 + 5.8 * this.m.sourceName(+u.slice(3)).length), PORT + 14] : [PORT, PORT];
    var k = +u.slice(1);
    if (!this.expanded[k]) return [NW, NH + 6];
    var b = this.layout(k);
    return [Math.max(b.w + 2 * PAD, 150), b.h + HEAD + PAD];
  };

  Graph.prototype.layout = function (g) {
    var hit = this.cache.get(g);
    if (hit) return hit;
    var gr = this, m = gr.m, units = m.children.get(g).slice(), edges = [];
    var ports = [], hasPO = false;  // a block's input ports (one per outside source, in reading order) and output port
    m.edges.get(g).forEach(function (e) {
      var p = e.split(">");
      if (p[0].indexOf("PI:") === 0 && ports.indexOf(p[0]) < 0) ports.push(p[0]);
      if (p[1] === "PO") hasPO = true;
      edges.push(p);
    });
    units = ports.concat(units);
    if (hasPO) units.push("PO");
    var pos = new Map();
    units.forEach(function (u, i) { pos.set(u, i); });
    var n = units.length, cross = new Int32Array(n + 1), next = new Uint8Array(n);
    var E = edges.map(function (e) { return [pos.get(e[0]), pos.get(e[1])]; }).filter(function (e) {
      return e[0] !== undefined && e[1] !== undefined;
    });
    E.forEach(function (e) {
      var a = Math.min(e[0], e[1]), b = Math.max(e[0], e[1]);
      cross[a] += 1; cross[b] -= 1;
      if (e[1] === e[0] + 1) next[e[0]] = 1;
    });
    // pieces: runs of units between boundaries crossed by the single edge u_i -> u_i+1
    var pieces = [], start = 0, run = 0;
    for (var i = 0; i < n; i++) {
      run += cross[i];
      if (i === n - 1 || (run === 1 && next[i])) { pieces.push([start, i]); start = i + 1; }
    }
    var sizes = units.map(function (u) { return gr.size(u, ports.length); });
    var laid = pieces.map(function (p) { return gr.piece(units, sizes, E, p[0], p[1]); });
    // stack pieces into columns no taller than the view (an open block may be taller before it wraps)
    var H = gr.height() * (g < 0 ? 1 : 1.6), cols = [], col = null;
    laid.forEach(function (pc, k) {
      if (!col || (col.h + GAP + pc.h > H && col.pieces.length)) {
        col = {pieces: [], h: -GAP, w: 0};
        cols.push(col);
      }
      pc.col = cols.length - 1;
      pc.y = col.h + GAP;
      col.h = pc.y + pc.h;
      col.w = Math.max(col.w, pc.w);
      col.pieces.push(k);
    });
    var x = 0, items = [], paths = [], colRanges = [];
    cols.forEach(function (c, ci) {
      colRanges.push([x, x + c.w]);
      c.pieces.forEach(function (k) {
        var pc = laid[k], dx = x + (c.w - pc.w) / 2, dy = pc.y;
        pc.dx = dx;
        pc.nodes.forEach(function (nd) {
          items.push({u: nd.u, x: nd.x + dx, y: nd.y + dy, w: nd.w, h: nd.h, col: ci});
        });
        pc.edges.forEach(function (pe) {
          paths.push({pts: pe.pts.map(function (p) { return [p.x + dx, p.y + dy]; }), col: ci, col2: ci, key: g + "|" + pe.key});
        });
      });
      x += c.w + COLGAP;
    });
    var at = new Map();
    items.forEach(function (it) { at.set(it.u, it); });
    for (var k = 0; k + 1 < laid.length; k++) {  // the single edge between consecutive pieces
      var a = at.get(units[pieces[k][1]]), b = at.get(units[pieces[k + 1][0]]), key = g + "|" + units[pieces[k][1]] + ">" + units[pieces[k + 1][0]];
      var x1 = a.x, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y - b.h / 2;
      if (a.col === b.col) paths.push({pts: [[x1, y1], [x1, (y1 + y2) / 2], [x2, (y1 + y2) / 2], [x2, y2]], col: a.col, col2: a.col, curve: true, key: key});
      else {
        var gx = colRanges[a.col][1] + COLGAP / 2, top = Math.max(0, y2 - GAP + 4);
        paths.push({pts: [[x1, y1], [x1, y1 + 8], [gx, y1 + 8], [gx, top], [x2, top], [x2, y2]], col: a.col, col2: b.col, bridge: true, key: key});
      }
    }
    var w = Math.max(0, x - COLGAP), h = 0;
    cols.forEach(function (c) { h = Math.max(h, c.h); });
    var box = {w: w, h: h, items: items, paths: paths, cols: colRanges};
    gr.cache.set(g, box);
    return box;
  };

  Graph.prototype.piece = function (units, sizes, E, a, b) {
    if (a === b) {
      var s = sizes[a];
      return {w: s[0], h: s[1], nodes: [{u: units[a], x: s[0] / 2, y: s[1] / 2, w: s[0], h: s[1]}], edges: []};
    }
    var G = new dagre.graphlib.Graph();
    G.setGraph({rankdir: "TB", nodesep: 18, ranksep: 22, marginx: 0, marginy: 0});
    G.setDefaultEdgeLabel(function () { return {}; });
    for (var i = a; i <= b; i++) G.setNode(String(i), {width: sizes[i][0], height: sizes[i][1]});
    E.forEach(function (e) { if (e[0] >= a && e[0] <= b && e[1] >= a && e[1] <= b) G.setEdge(String(e[0]), String(e[1])); });
    dagre.layout(G);
    var nodes = [], edges = [], x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    for (i = a; i <= b; i++) {
      var nd = G.node(String(i));
      nodes.push({u: units[i], x: nd.x, y: nd.y, w: sizes[i][0], h: sizes[i][1]});
      x0 = Math.min(x0, nd.x - sizes[i][0] / 2); x1 = Math.max(x1, nd.x + sizes[i][0] / 2);
      y0 = Math.min(y0, nd.y - sizes[i][1] / 2); y1 = Math.max(y1, nd.y + sizes[i][1] / 2);
    }
    G.edges().forEach(function (e) {
      var pts = G.edge(e).points;
      pts.forEach(function (q) { x0 = Math.min(x0, q.x); x1 = Math.max(x1, q.x); y0 = Math.min(y0, q.y); y1 = Math.max(y1, q.y); });
      edges.push({pts: pts, key: units[+e.v] + ">" + units[+e.w]});
    });
    // dagre keeps the nodes inside its box but not always the bends of a long edge: widen the box to hold them
    if (x0 < 0 || y0 < 0) {
      nodes.forEach(function (n) { n.x -= x0; n.y -= y0; });
      edges.forEach(function (pe) { pe.pts = pe.pts.map(function (q) { return {x: q.x - x0, y: q.y - y0}; }); });
    }
    var gg = G.graph();
    return {w: Math.max(gg.width, x1) - x0, h: Math.max(gg.height, y1) - y0, nodes: nodes, edges: edges};
  };

  Graph.prototype.draw = function () {
    var box = this.layout(-1);
    if (!this.fitted) {  // the first time: shrink (not below 70%) so that the whole graph fits the width
      this.fitted = true;
      var W = this.view.clientWidth || 0, need = box.w + 2 * PAD;
      if (W && need > W && W / need >= 0.7) {
        this.scale = Math.floor(100 * (W - 4) / need) / 100;
        this.cache.clear();
        box = this.layout(-1);
      }
    }
    this.box = box;
    this.abs = null;
    var s = this.scale, W = (box.w + 2 * PAD) * s, H = (box.h + 2 * PAD) * s;
    this.svg.setAttribute("width", Math.ceil(W));
    this.svg.setAttribute("height", Math.ceil(H));
    this.svg.setAttribute("viewBox", [-PAD, -PAD, box.w + 2 * PAD, box.h + 2 * PAD].join(" "));
    this.cull(true);
  };
  // draw only the top-level columns near the visible part (a 10,000-layer network has hundreds)
  Graph.prototype.cull = function (force) {
    var box = this.box;
    if (!box) return;
    var s = this.scale, left = this.view.scrollLeft / s - PAD, width = (this.view.clientWidth || 1200) / s;
    var lo = left - width, hi = left + 2 * width;
    var first = 0, last = box.cols.length - 1;
    while (first < last && box.cols[first][1] < lo) first++;
    while (last > first && box.cols[last][0] > hi) last--;
    if (!force && this.drawn && this.drawn[0] <= first && this.drawn[1] >= last &&
        (this.drawn[0] === 0 || box.cols[this.drawn[0]][0] <= left) &&
        (this.drawn[1] === box.cols.length - 1 || box.cols[this.drawn[1]][1] >= left + width)) return;
    // keep a margin of one view on each side so that small scrolls redraw nothing
    this.drawn = [first, last];
    clear(this.svg);
    this.svg.appendChild(defs(this.arrow));
    var root = sv("g", {"class": "g-root"});
    var edgesLayer = sv("g", {"class": "edges"}), nodesLayer = sv("g", {"class": "nodes"});
    root.appendChild(edgesLayer);
    root.appendChild(nodesLayer);
    var gr = this;
    box.paths.forEach(function (p) {
      if (p.col2 < first || p.col > last) return;
      edgesLayer.appendChild(edgePath(p, gr.arrow, gr.edgeMark(p.key)));
    });
    box.items.forEach(function (it) {
      if (it.col < first || it.col > last) return;
      gr.unit(it, 0, 0, nodesLayer, edgesLayer);
    });
    this.svg.appendChild(root);
    this.restyle();
  };
  function defs(id) {
    return sv("defs", null, [sv("marker", {id: id, viewBox: "0 0 8 8", refX: 7, refY: 4, markerWidth: 9,
      markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse"}, [sv("path", {d: "M0,0 L8,4 L0,8 z", "class": "arrowhead"})])]);
  }
  // "new" (B) or "gone" (A) when the edge carries a read that the other spec does not have (a rewired input)
  Graph.prototype.edgeMark = function (key) {
    var marks = this.opts.edgeMarks, reads = marks && key ? this.m.carry.get(key) : null;
    if (!reads) return null;
    for (var i = 0; i < reads.length; i++) if (marks.has(reads[i])) return marks.get(reads[i]);
    return null;
  };
  function edgePath(p, arrow, mark) {
    var pts = p.pts, d = "M" + pts[0][0].toFixed(1) + "," + pts[0][1].toFixed(1);
    if (p.curve && pts.length === 4) {
      d += " C" + [pts[1], pts[2], pts[3]].map(function (q) { return q[0].toFixed(1) + "," + q[1].toFixed(1); }).join(" ");
    } else {
      for (var i = 1; i < pts.length; i++) d += " L" + pts[i][0].toFixed(1) + "," + pts[i][1].toFixed(1);
    }
    return sv("path", {d: d, "class": "edge" + (p.bridge ? " bridge" : "") + (mark ? " d-" + mark : ""), "data-edge": p.key || null,
      "marker-end": "url(#" + arrow + ")"});
  }
  function clip(s, n) { return s.length > n ? "…" + s.slice(s.length - n + 1) : s; }
  function fit(head, tail, n) {  // head + tail in n characters, shortening the head
    var room = n - tail.length;
    return head.length <= room ? head + tail : head.slice(0, Math.max(1, room - 1)) + "…" + tail;
  }
  function fitEnd(head, tail, n) {  // the same, keeping the head's end (a block's index: …encoder_layer_11)
    var room = n - tail.length;
    return head.length <= room ? head + tail : "…" + head.slice(head.length - Math.max(1, room - 1)).replace(/^\./, "") + tail;
  }

  Graph.prototype.unit = function (it, ox, oy, nodes, edges) {
    var m = this.m, u = it.u, x = it.x + ox - it.w / 2, y = it.y + oy - it.h / 2, c = u.charAt(0);
    var conv = this.opts.conv();
    if (c === "I" || c === "O") {
      var k0 = +u.slice(1), io = c === "I" ? m.ins[k0] : m.outs[k0], kind = c === "I" ? "input" : "output";
      var named = c === "I" ? m.rep.named_inputs : m.rep.named_outputs;
      var iomark = this.opts.ioMarks ? this.opts.ioMarks[kind][k0] : null;
      var label = named ? fit(kind + " " + io.name, " · " + shape(io.shape), 30) : fit(kind, "  " + shape(io.shape), 30);
      nodes.appendChild(sv("g", {"class": "node " + kind + (iomark ? " d-" + iomark : ""), "data-io": kind, "data-index": k0,
        transform: "translate(" + x + "," + y + ")"}, [
        sv("title", {text: (c === "I" ? "network input " : "network output ") + (k0 + 1) + " of " + (c === "I" ? m.ins : m.outs).length +
          ": " + io.name + " " + shape(io.shape) + (c === "O" ? " (the output of layer " + m.layers[io.layer].name + ")" : "") +
          (iomark ? "\n" + iomark + " in B" : "")}),
        sv("rect", {width: it.w, height: it.h, rx: c === "I" ? 6 : 12, "class": "n-bg"}),
        sv("text", {x: 10, y: 21, "class": "n-name", text: label})]));
      return;
    }
    if (c === "P") {
      if (it.h > PORT) {  // one of several input ports: the dot where its edges start, what it brings above it
        var src = m.sourceName(+u.slice(3));
        nodes.appendChild(sv("g", {"class": "port-in", "data-port": src}, [
          sv("title", {text: "from " + src}),
          sv("text", {x: it.x + ox, y: y + 9, "text-anchor": "middle", "class": "port-label", text: "from " + clip(src, 22)}),
          sv("circle", {cx: it.x + ox, cy: y + it.h - PORT / 2, r: 4, "class": "port"})]));
      } else nodes.appendChild(sv("circle", {cx: it.x + ox, cy: it.y + oy, r: 4, "class": "port"}));
      return;
    }
    if (c === "L") {
      var i = +u.slice(1), l = m.layers[i], macs = m.conv[conv].macs[i];
      var mark = this.marks ? this.marks[i] : null;
      var g = sv("g", {"class": "node layer f-" + family(l.type) + (mark ? " d-" + mark : ""), "data-layer": i,
        transform: "translate(" + x + "," + y + ")"}, [
        sv("title", {text: l.name + " (" + l.type + ")\noutput " + shape(l.output_shape) + "\nparams " + commas(l.params) +
          (l.shares ? " (the weights of " + l.shares + ")" : "") + "\nMACs " + commas(macs) + " (" + conv + ")"}),
        sv("rect", {width: it.w, height: it.h, rx: 6, "class": "n-bg"}),
        sv("rect", {x: 0, y: 0, width: 4, height: it.h, "class": "n-stripe"}),
        sv("text", {x: 10, y: 15, "class": "n-name", text: clip(m.localName(i), 27)}),
        sv("text", {x: 10, y: 29, "class": "n-sub", text: fit(m.rep.captions[i], " · " + shape(l.output_shape), 29)}),
        sv("text", {x: 10, y: 43, "class": "n-num", text: nodeNumbers(l.params, macs, l.shares)})]);
      var heavy = this.opts.heat ? this.opts.heat(i) : 0;
      if (heavy > 0) g.appendChild(sv("rect", {x: 4, y: it.h - 3, width: Math.max(1, (it.w - 4) * heavy), height: 3, "class": "n-heat"}));
      nodes.appendChild(g);
      return;
    }
    var k = +u.slice(1), grp = m.groups[k], nl = grp.layers.length;
    var inner = this.marks ? this.groupMark(k) : null;
    if (!this.expanded[k]) {
      var out = m.layers[m.groupOutput(k)];
      nodes.appendChild(sv("g", {"class": "node group" + (inner ? " d-inner di-" + inner : ""), "data-group": k,
        transform: "translate(" + x + "," + y + ")"}, [
        sv("title", {text: grp.name + " (block " + grp.block + ", " + nl + " layers): click to open"}),
        sv("rect", {x: 4, y: 4, width: it.w - 4, height: it.h - 4, rx: 6, "class": "n-shadow"}),
        sv("rect", {width: it.w - 4, height: it.h - 4, rx: 6, "class": "n-bg"}),
        sv("text", {x: 10, y: 15, "class": "n-name", text: "▸ " + fitEnd(m.groupLocalName(k), " (" + nl + " layers)", 27)}),
        sv("text", {x: 10, y: 29, "class": "n-sub", text: fit(grp.block, " · " + shape(out.output_shape), 29)}),
        sv("text", {x: 10, y: 43, "class": "n-num", text: nodeNumbers(m.groupSum(k, "params"), m.groupSum(k, "macs", conv),
          !m.groupSum(k, "params") && grp.layers.some(function (i) { return m.layers[i].shares; }))})]));
      return;
    }
    var frame = sv("g", {"class": "frame" + (inner ? " d-inner di-" + inner : ""), "data-frame": k}, [
      sv("rect", {x: x, y: y, width: it.w, height: it.h, rx: 8, "class": "f-bg"}),
      sv("g", {"class": "f-head", "data-toggle": k}, [
        sv("rect", {x: x, y: y, width: it.w, height: HEAD - 4, rx: 8, "class": "f-headbg"}),
        sv("text", {x: x + 8, y: y + 14, "class": "f-title", text: clip("▾ " + m.groupLocalName(k) + " · " + grp.block, 40)}),
        sv("title", {text: grp.name + " (block " + grp.block + "): click to close"})])]);
    nodes.appendChild(frame);
    var b = this.layout(k), bx = x + (it.w - b.w) / 2, by = y + HEAD, gr = this;
    b.paths.forEach(function (p) {
      edges.appendChild(edgePath({pts: p.pts.map(function (q) { return [q[0] + bx, q[1] + by]; }), curve: p.curve, bridge: p.bridge, key: p.key},
        gr.arrow, gr.edgeMark(p.key)));
    });
    b.items.forEach(function (ch) { gr.unit(ch, bx, by, nodes, edges); });
  };
  function nodeNumbers(params, macs, shares) {
    return (shares ? "shared weights" : num(params) ? human(params) + " params" : "no params") + " · " +
      (num(macs) ? human(macs) + " MACs" : "0 MACs");
  }
  Graph.prototype.groupMark = function (k) {
    var ls = this.m.groups[k].layers, found = null;
    for (var i = 0; i < ls.length; i++) {
      var mk = this.marks[ls[i]];
      if (mk) { if (!found) found = mk; else if (found !== mk) return "changed"; }
    }
    return found;
  };
  // absolute centre of every drawn or drawable unit (for scrolling to a layer)
  Graph.prototype.positions = function () {
    if (this.abs) return this.abs;
    var abs = new Map(), gr = this;
    var walk = function (box, ox, oy) {
      box.items.forEach(function (it) {
        abs.set(it.u, {x: it.x + ox, y: it.y + oy, w: it.w, h: it.h});
        if (it.u.charAt(0) === "G" && gr.expanded[+it.u.slice(1)]) {
          var b = gr.layout(+it.u.slice(1));
          walk(b, it.x + ox - it.w / 2 + (it.w - b.w) / 2, it.y + oy - it.h / 2 + HEAD);
        }
      });
    };
    walk(this.box, 0, 0);
    this.abs = abs;
    return abs;
  };
  Graph.prototype.visibleUnit = function (i) {  // the node that shows layer i: itself or its closed block
    var c = this.m.chain[i];
    for (var d = 0; d < c.length; d++) if (!this.expanded[c[d]]) return "G" + c[d];
    return "L" + i;
  };
  Graph.prototype.scrollTo = function (i) {
    var p = this.positions().get(this.visibleUnit(i));
    if (!p) return;
    var s = this.scale, v = this.view;
    var cx = (p.x + PAD) * s, cy = (p.y + PAD) * s;
    if (cx < v.scrollLeft + 40 || cx > v.scrollLeft + v.clientWidth - 40) v.scrollLeft = Math.max(0, cx - v.clientWidth / 2);
    if (cy < v.scrollTop + 30 || cy > v.scrollTop + v.clientHeight - 30) v.scrollTop = Math.max(0, cy - v.clientHeight / 2);
    this.cull(false);
  };
  Graph.prototype.select = function (i, reveal) {
    this.sel = i;
    if (i >= 0 && reveal && this.reveal(i)) this.draw();
    if (i >= 0 && reveal) this.scrollTo(i);
    this.restyle();
  };
  Graph.prototype.highlight = function (layers) {
    this.hl = layers || [];
    this.restyle();
  };
  Graph.prototype.restyle = function () {
    var svg = this.svg, gr = this;
    Array.prototype.forEach.call(svg.querySelectorAll(".hl, .sel"), function (e) { e.classList.remove("hl", "sel"); });
    var mark = function (i, cls) {
      var u = gr.visibleUnit(i), q = u.charAt(0) === "L" ? '[data-layer="' + i + '"]' : '[data-group="' + u.slice(1) + '"]';
      var e = svg.querySelector(q);
      if (e) e.classList.add(cls);
    };
    this.hl.forEach(function (i) { mark(i, "hl"); });
    if (this.sel >= 0) mark(this.sel, "sel");
  };
  Graph.prototype.onClick = function (ev) {
    var t = ev.target.closest("[data-toggle]");
    if (t) { this.toggle(+t.getAttribute("data-toggle"), 0); this.draw(); return; }
    t = ev.target.closest("[data-group]");
    if (t) { this.toggle(+t.getAttribute("data-group"), 1); this.draw(); return; }
    t = ev.target.closest("[data-layer]");
    if (t && this.opts.onSelect) this.opts.onSelect(+t.getAttribute("data-layer"), "graph");
    t = ev.target.closest('[data-io="output"]');
    if (t && this.opts.onSelect) this.opts.onSelect(this.m.outs[+t.getAttribute("data-index")].layer, "io");
  };
  Graph.prototype.onOver = function (ev) {
    if (!this.opts.onHover) return;
    var t = ev.target.closest("[data-layer]");
    if (t) return this.opts.onHover(+t.getAttribute("data-layer"));
    t = ev.target.closest("[data-group]");
    if (t) return this.opts.onHover(this.m.groups[+t.getAttribute("data-group")].layers);
    t = ev.target.closest('[data-io="output"]');
    if (t) return this.opts.onHover(this.m.outs[+t.getAttribute("data-index")].layer);
    this.opts.onHover(null);
  };

  // ---- the table: every column of `show`, sortable and filterable, drawn in a window of rows ------
  var COLS = [
    {key: "idx", label: "#", num: true},
    {key: "name", label: "Layer"},
    {key: "type", label: "Type"},
    {key: "block", label: "Block"},
    {key: "shape", label: "Output shape"},
    {key: "params", label: "Params", num: true},
    {key: "trainable_params", label: "Trainable", num: true},
    {key: "non_trainable_params", label: "Non-trainable", num: true},
    {key: "macs", label: "MACs", num: true},
    {key: "flops", label: "FLOPs", num: true},
    {key: "rf", label: "RF", num: true},
    {key: "jump", label: "Jump", num: true},
    {key: "start", label: "Start", num: true},
    {key: "act", label: "Activations", num: true},
    {key: "act_mem", label: "Act. bytes", num: true},
    {key: "param_mem", label: "Param bytes", num: true}
  ];
  var ROWH = 22;

  function Table(app, host) {
    var tb = this, m = app.m;
    tb.app = app;
    tb.m = m;
    tb.order = [];
    tb.sort = null;
    tb.filterText = "";
    tb.hl = new Set();
    tb.filter = el("input", {type: "search", "class": "t-filter", placeholder: "Filter: name, type or block",
      "aria-label": "filter layers"});
    tb.count = el("span", {"class": "t-count"});
    var heads = COLS.map(function (c) {
      var th = el("th", {"data-col": c.key, "class": c.num ? "num" : null, title: "sort by " + c.label, text: c.label});
      th.addEventListener("click", function () { tb.sortBy(c.key); });
      return th;
    });
    tb.body = el("tbody");
    tb.foot = el("tfoot");
    tb.table = el("table", {"class": "layers"}, [el("thead", null, el("tr", null, heads)), tb.body, tb.foot]);
    tb.wrap = el("div", {"class": "t-wrap"}, tb.table);
    append(host, [el("div", {"class": "t-tools"}, [tb.filter, tb.count]), tb.wrap]);
    tb.filter.addEventListener("input", function () { tb.filterText = tb.filter.value.trim().toLowerCase(); tb.refresh(); });
    var pending = false;
    tb.wrap.addEventListener("scroll", function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; tb.window(false); });
    });
    tb.body.addEventListener("mouseover", function (ev) {
      var r = ev.target.closest("tr[data-layer]");
      app.hover(r ? +r.getAttribute("data-layer") : null, "table");
    });
    tb.body.addEventListener("mouseleave", function () { app.hover(null, "table"); });
    tb.body.addEventListener("click", function (ev) {
      var r = ev.target.closest("tr[data-layer]");
      if (r) app.select(+r.getAttribute("data-layer"), "table");
    });
    tb.refresh();
  }
  Table.prototype.value = function (i, key) {
    var l = this.m.layers[i], c = this.m.conv[this.app.conv];
    switch (key) {
      case "idx": return i + 1;
      case "name": return l.name;
      case "type": return l.type;
      case "block": var g = this.m.layerGroup[i]; return g < 0 ? "" : this.m.groups[g].name;
      case "shape": return l.activation_elements;
      case "macs": return num(c.macs[i]);
      case "flops": return num(c.flops[i]);
      case "rf": return l.receptive_field_kind === "global" ? Infinity : (l.receptive_field ? l.receptive_field.reduce(function (a, b) { return a * b; }, 1) : -1);
      case "jump": return l.jump ? l.jump[0] : -1;
      case "start": return l.start ? l.start[0] : -Infinity;
      case "act": return num(l.activation_elements);
      case "act_mem": return num(l.activation_bytes);
      case "param_mem": return num(l.param_bytes);
      default: return num(l[key]);
    }
  };
  Table.prototype.cell = function (i, key) {
    var l = this.m.layers[i], c = this.m.conv[this.app.conv], cells = this.m.rep.cells;
    switch (key) {
      case "idx": return String(i + 1);
      case "name": return l.name;
      case "type": return l.type;
      case "block": var g = this.m.layerGroup[i]; return g < 0 ? "" : this.m.groups[g].name + " (" + this.m.groups[g].block + ")";
      case "shape": return shape(l.output_shape);
      case "macs": return cnt(c.macs[i]);
      case "flops": return cnt(c.flops[i]);
      case "rf": case "jump": case "start": return cells[key][i];
      case "act": return cnt(l.activation_elements);
      case "act_mem": return cnt(l.activation_bytes);
      case "param_mem": return cnt(l.param_bytes);
      default: return cnt(l[key]);
    }
  };
  Table.prototype.sortBy = function (key) {
    var s = this.sort;
    this.sort = !s || s.key !== key ? {key: key, dir: COLS.some(function (c) { return c.key === key && c.num; }) && key !== "idx" ? -1 : 1}
      : s.dir === 1 && key !== "idx" ? null : {key: key, dir: -s.dir};
    this.refresh();
  };
  Table.prototype.refresh = function () {
    var tb = this, m = this.m, f = this.filterText, order = [];
    for (var i = 0; i < m.n; i++) {
      if (f) {
        var g = m.layerGroup[i], hay = (m.layers[i].name + " " + m.layers[i].type + " " + (g < 0 ? "" : m.groups[g].name + " " + m.groups[g].block)).toLowerCase();
        if (hay.indexOf(f) < 0) continue;
      }
      order.push(i);
    }
    if (this.sort) {
      var key = this.sort.key, dir = this.sort.dir;
      var vals = new Map();
      order.forEach(function (i) { vals.set(i, tb.value(i, key)); });
      order.sort(function (a, b) {
        var x = vals.get(a), y = vals.get(b);
        var c = typeof x === "string" ? x.localeCompare(y) : (x < y ? -1 : x > y ? 1 : 0);
        return c * dir || a - b;
      });
    }
    this.order = order;
    Array.prototype.forEach.call(this.table.querySelectorAll("th"), function (th) {
      var k = th.getAttribute("data-col");
      th.classList.toggle("sorted-asc", !!tb.sort && tb.sort.key === k && tb.sort.dir === 1);
      th.classList.toggle("sorted-desc", !!tb.sort && tb.sort.key === k && tb.sort.dir === -1);
    });
    this.count.textContent = order.length === m.n ? m.n + " layers" : order.length + " of " + m.n + " layers";
    this.footer();
    this.window(true);
  };
  Table.prototype.footer = function () {
    var m = this.m, c = m.conv[this.app.conv], t = m.totals, mem = m.memory;
    var vals = {name: "Total", shape: outputsText(m), params: commas(t.params),
      trainable_params: commas(t.trainable_params), non_trainable_params: commas(t.non_trainable_params),
      macs: commas(c.total_macs), flops: commas(c.total_flops), act: commas(mem.activation_elements),
      act_mem: commas(mem.activation_bytes), param_mem: commas(mem.param_bytes)};
    clear(this.foot);
    this.foot.appendChild(el("tr", null, COLS.map(function (col) {
      return el("td", {"class": col.num ? "num" : null, "data-col": col.key, text: vals[col.key] || ""});
    })));
  };
  Table.prototype.window = function (force) {
    var n = this.order.length, all = n <= 1000;
    var top = this.wrap.scrollTop, vh = this.wrap.clientHeight || 600;
    var start = all ? 0 : Math.max(0, Math.floor(top / ROWH) - 30);
    var end = all ? n : Math.min(n, Math.ceil((top + vh) / ROWH) + 30);
    if (!force && this.range && this.range[0] <= Math.max(0, Math.floor(top / ROWH) - 5) &&
        this.range[1] >= Math.min(n, Math.ceil((top + vh) / ROWH) + 5)) return;
    this.range = [start, end];
    var body = this.body, tb = this;
    clear(body);
    if (start > 0) body.appendChild(spacer(start * ROWH));
    for (var r = start; r < end; r++) {
      var i = this.order[r];
      var tr = el("tr", {"data-layer": i, "class": (i === this.app.sel ? "sel " : "") + (this.hl.has(i) ? "hl" : "") || null},
        COLS.map(function (col) {
          return el("td", {"class": col.num ? "num" : null, "data-col": col.key, text: tb.cell(i, col.key)});
        }));
      body.appendChild(tr);
    }
    if (end < n) body.appendChild(spacer((n - end) * ROWH));
  };
  function spacer(h) {
    var td = el("td", {colspan: COLS.length, "class": "spacer"});
    td.style.height = h + "px";
    return el("tr", {"class": "spacer", "aria-hidden": "true"}, td);
  }
  Table.prototype.restyle = function () {
    var tb = this;
    Array.prototype.forEach.call(this.body.querySelectorAll("tr[data-layer]"), function (tr) {
      var i = +tr.getAttribute("data-layer");
      tr.classList.toggle("sel", i === tb.app.sel);
      tr.classList.toggle("hl", tb.hl.has(i));
    });
  };
  Table.prototype.scrollTo = function (i) {
    var r = this.order.indexOf(i);
    if (r < 0) return;
    var y = r * ROWH, w = this.wrap;
    if (y < w.scrollTop + ROWH || y > w.scrollTop + w.clientHeight - 2 * ROWH) w.scrollTop = Math.max(0, y - w.clientHeight / 3);
    this.window(false);
    this.restyle();
  };

  // ---- charts: params, MACs and activation memory per layer (uPlot bars) ----------------------
  function Charts(app, host) {
    var ch = this, m = app.m;
    ch.app = app;
    ch.m = m;
    ch.plots = [];
    ch.lists = [];
    var xs = [];
    for (var i = 0; i < m.n; i++) xs.push(i);
    ch.xs = xs;
    ch.defs = [
      {key: "params", title: "Params per layer", values: function () { return m.layers.map(function (l) { return num(l.params); }); }},
      {key: "macs", title: "MACs per layer", values: function () { return m.conv[app.conv].macs.map(num); }},
      {key: "act", title: "Activation memory per layer (bytes)", values: function () { return m.layers.map(function (l) { return num(l.activation_bytes); }); }}
    ];
    var names = m.layers.map(function (l) { return l.name; });
    ch.defs.forEach(function (d, k) {
      var box = el("div", {"class": "chart", "data-chart": d.key});
      var list = el("ol", {"class": "heavy", "data-heavy": d.key});
      host.appendChild(el("div", {"class": "chart-row"}, [el("div", {"class": "chart-main"}, [el("h3", {text: d.title}), box]),
        el("div", {"class": "chart-side"}, [el("h4", {text: "Heaviest"}), list])]));
      ch.lists.push(list);
      var opts = {
        width: Math.max(300, box.clientWidth || 800), height: 150,
        legend: {show: true, live: true},
        cursor: {sync: {key: "cnncalc-layers"}, points: {show: false}, drag: {x: false, y: false, setScale: false}},
        scales: {x: {time: false, range: [-0.5, Math.max(0.5, m.n - 0.5)]}, y: {range: function (u, lo, hi) { return [0, hi > 0 ? hi * 1.05 : 1]; }}},
        axes: [{show: false}, {size: 56, values: function (u, vals) { return vals.map(axisLabel); }}],
        series: [
          {label: "layer", value: function (u, v) { return v === null || v === undefined ? "" : names[v]; }},
          {label: d.key === "macs" ? "MACs" : d.key === "params" ? "params" : "activation bytes", stroke: "#3b6fb6", fill: "rgba(59,111,182,0.55)",
            paths: uPlot.paths.bars({size: [0.85, 24], align: 0}), points: {show: false},
            value: function (u, v) { return v === null || v === undefined ? "" : commas(v); }}
        ],
        hooks: {
          setCursor: [function (u) { if (ch.hovering === k) app.hover(u.cursor.idx === null || u.cursor.idx === undefined ? null : u.cursor.idx, "chart"); }],
          draw: [function (u) { ch.mark(u); }]
        }
      };
      var plot = new uPlot(opts, [xs, d.values()], box);
      plot.over.addEventListener("mouseenter", function () { ch.hovering = k; });
      plot.over.addEventListener("mouseleave", function () { ch.hovering = -1; app.hover(null, "chart"); });
      plot.over.addEventListener("click", function () {
        var idx = plot.cursor.idx;
        if (idx !== null && idx !== undefined) app.select(idx, "chart");
      });
      ch.plots.push(plot);
    });
    ch.heavy();
    window.addEventListener("resize", function () {
      ch.plots.forEach(function (p) { p.setSize({width: Math.max(300, p.root.parentNode.clientWidth || 800), height: 150}); });
    });
  }
  Charts.prototype.mark = function (u) {  // a line at the selected layer
    var i = this.app.sel;
    if (i < 0) return;
    var x = Math.round(u.valToPos(i, "x", true)), ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = "#d9480f";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.restore();
  };
  Charts.prototype.update = function () {
    var ch = this;
    ch.plots.forEach(function (p, k) { p.setData([ch.xs, ch.defs[k].values()]); });
    ch.heavy();
  };
  Charts.prototype.redraw = function () { this.plots.forEach(function (p) { p.redraw(false, false); }); };
  Charts.prototype.heavy = function () {
    var ch = this, app = this.app;
    ch.defs.forEach(function (d, k) {
      var vals = d.values(), total = vals.reduce(function (a, b) { return a + b; }, 0);
      var idx = vals.map(function (v, i) { return i; }).filter(function (i) { return vals[i] > 0; });
      idx.sort(function (a, b) { return vals[b] - vals[a] || a - b; });
      var list = ch.lists[k];
      clear(list);
      idx.slice(0, 5).forEach(function (i) {
        var raw = d.key === "params" ? ch.m.layers[i].params : d.key === "act" ? ch.m.layers[i].activation_bytes : ch.m.conv[app.conv].macs[i];
        var li = el("li", {"data-layer": i}, [el("span", {"class": "h-name", text: ch.m.layers[i].name}),
          el("span", {"class": "h-val", text: commas(raw)}), el("span", {"class": "h-pct", text: pct(vals[i], total)})]);
        li.addEventListener("click", function () { app.select(i, "chart"); });
        li.addEventListener("mouseenter", function () { app.hover(i, "chart"); });
        li.addEventListener("mouseleave", function () { app.hover(null, "chart"); });
        list.appendChild(li);
      });
      if (!idx.length) list.appendChild(el("li", {"class": "muted", text: "none"}));
    });
  };

  // ---- the source view -----------------------------------------------------------------------
  function Source(host, src) {
    this.lines = [];
    this.box = el("div", {"class": "src", role: "region", "aria-label": "spec source"});
    var self = this;
    if (src.text === null || src.text === undefined) this.box.appendChild(el("p", {"class": "muted", text: "(the spec's text could not be read)"}));
    else {
      var text = src.text.replace(/\r\n?/g, "\n").split("\n");
      if (text.length && text[text.length - 1] === "") text.pop();
      var frag = document.createDocumentFragment();
      text.forEach(function (t, i) {
        var row = el("div", {"class": "sl", "data-line": i + 1}, [el("span", {"class": "ln", text: String(i + 1)}), el("span", {"class": "lt", text: t || " "})]);
        self.lines.push(row);
        frag.appendChild(row);
      });
      this.box.appendChild(frag);
    }
    host.appendChild(this.box);
    this.marked = [];
  }
  Source.prototype.mark = function (lines, scroll, cls) {
    var self = this;
    this.marked.forEach(function (r) { r.classList.remove("mark", "mark-err"); });
    this.marked = [];
    lines.forEach(function (n) {
      var r = self.lines[n - 1];
      if (r) { r.classList.add(cls || "mark"); self.marked.push(r); }
    });
    if (scroll && this.marked.length) {
      var r0 = this.marked[0], b = this.box;
      b.scrollTop = Math.max(0, r0.offsetTop - b.offsetTop - b.clientHeight / 3);
    }
  };

  // ---- the report of one spec ------------------------------------------------------------------
  function Report(root, rep, opts) {
    var app = this;
    app.m = new Model(rep);
    app.rep = rep;
    app.conv = opts.convention;
    app.sel = -1;
    app.opts = opts;
    var m = app.m;
    app.header = el("header", {"class": "top"});
    app.diags = el("section", {"class": "diags", "aria-label": "warnings and expect results"});
    var graphHost = el("section", {"class": "graph-pane", "aria-label": "graph"});
    app.details = el("section", {"class": "details", "aria-label": "selected layer"});
    var srcHost = el("section", {"class": "source", "aria-label": "spec source"});
    var chartsHost = el("section", {"class": "charts", "aria-label": "charts"});
    var tableHost = el("section", {"class": "table-pane", "aria-label": "table"});
    append(root, [app.header, app.diags,
      el("div", {"class": "main"}, [graphHost, el("div", {"class": "side"}, [app.details, el("h3", {text: "Spec: " + (rep.source.file || "")}), srcHost])]),
      el("h2", {text: "Per layer"}), chartsHost, el("h2", {text: "Table"}), tableHost]);
    app.drawHeader();
    app.drawDiags();
    var maxMacs = 0;
    app.heat = function (i) {
      var macs = m.conv[app.conv].macs;
      if (!maxMacs || app.heatConv !== app.conv) { maxMacs = 0; app.heatConv = app.conv; macs.forEach(function (v) { maxMacs = Math.max(maxMacs, num(v)); }); }
      return maxMacs ? num(macs[i]) / maxMacs : 0;
    };
    app.graph = new Graph(m, graphHost, {conv: function () { return app.conv; }, heat: app.heat,
      onSelect: function (i, from) { app.select(i, from === "io" ? "io" : "graph"); }, onHover: function (h) { app.hover(h, "graph"); }});
    // the graph and the side panel take the rest of the first screen (the graph's columns are as tall)
    var top = app.graph.view.getBoundingClientRect().top + window.scrollY;
    if (top > 0 && window.innerHeight) {
      var h = Math.max(380, Math.round(window.innerHeight - top - 14));
      app.graph.view.style.height = h + "px";
      graphHost.parentNode.querySelector(".side").style.height = (h + app.graph.toolbar.offsetHeight + 4) + "px";
    }
    app.source = new Source(srcHost, rep.source);
    app.table = new Table(app, tableHost);
    app.charts = new Charts(app, chartsHost);
    app.drawDetails();
  }
  Report.prototype.drawHeader = function () {
    var app = this, m = this.m, d = m.doc, t = m.totals, c = m.conv[this.conv];
    clear(this.header);
    var select = el("select", {"class": "conv-select", "aria-label": "MACs/FLOPs convention"},
      m.rep.conventions.map(function (cv) { return el("option", {value: cv.name, title: cv.summary, selected: cv.name === app.conv ? "selected" : null, text: cv.name}); }));
    select.addEventListener("change", function () { app.setConvention(select.value); });
    var card = function (label, value, key, sub) {
      return el("div", {"class": "card", "data-total": key}, [el("div", {"class": "c-label", text: label}),
        el("div", {"class": "c-value", text: commas(value)}), el("div", {"class": "c-sub", text: sub || human(value)})]);
    };
    append(this.header, [
      el("div", {"class": "title"}, [el("h1", {text: d.name}),
        el("div", {"class": "subtitle"}, [(m.rep.source.file || "") + " · ", ioList(m, "input"), " (" + d.layout + ") → ",
          ioList(m, "output"), " · " + m.n + " layers"])]),
      el("div", {"class": "cards"}, [
        card("Params", t.params, "params", human(t.params) + " · trainable " + commas(t.trainable_params)),
        card("Non-trainable", t.non_trainable_params, "non_trainable_params"),
        card("MACs", c.total_macs, "macs"),
        card("FLOPs", c.total_flops, "flops")]),
      el("div", {"class": "conv"}, [el("label", null, ["Convention ", select]), el("div", {"class": "conv-summary", text: c.summary})]),
      el("div", {"class": "memory", text: m.rep.memory_summary})]);
  };
  // `input 224x224x3`, or `inputs image 128x128x3, mask 128x128x1`: every input or output, each in a span
  function ioList(m, kind) {
    var items = kind === "input" ? m.ins : m.outs, named = kind === "input" ? m.rep.named_inputs : m.rep.named_outputs;
    var box = el("span", {"class": "io-list", "data-io": kind}, [kind + (items.length > 1 ? "s " : " ")]);
    items.forEach(function (x, k) {
      if (k) box.appendChild(document.createTextNode(", "));
      box.appendChild(el("span", {"class": "io-item", "data-index": k}, named ? [el("b", {text: x.name}), " " + shape(x.shape)] : shape(x.shape)));
    });
    return box;
  }
  function outputsText(m) {  // the table footer's output shapes: one, or each named
    return m.outs.length === 1 ? shape(m.outs[0].shape) : m.outs.map(function (o) { return o.name + " " + shape(o.shape); }).join(", ");
  }
  Report.prototype.drawDiags = function () {
    var app = this, rep = this.rep, box = this.diags;
    clear(box);
    var items = [];
    rep.warnings.forEach(function (w) { items.push(diagItem(w, "warning", app)); });
    var ex = rep.expect;
    if (ex.unmet.length) ex.unmet.forEach(function (w) { items.push(diagItem(w, "error", app)); });
    var summary = ex.stated === 0 ? "expect: none stated" : ex.unmet.length ?
      "expect: " + ex.unmet.length + " of " + ex.stated + " values unmet" : "expect: all " + ex.stated + " values met";
    box.appendChild(el("div", {"class": "expect " + (ex.unmet.length ? "bad" : ex.stated ? "ok" : "none"), text: summary}));
    if (!rep.warnings.length) box.appendChild(el("div", {"class": "nowarn", text: "no warnings"}));
    if (items.length) box.appendChild(el("ul", {"class": "diag-list"}, items));
  };
  function diagItem(d, cls, app) {
    var li = el("li", {"class": "diag " + cls, "data-layer": d.layer && app.m.index.has(d.layer) ? app.m.index.get(d.layer) : null,
      "data-line": d.line}, [el("span", {"class": "sev", text: d.severity}), " ", el("span", {"class": "msg", text: d.message}),
      " ", el("span", {"class": "rule", text: "[" + d.rule + "]"}), " ", el("span", {"class": "loc", text: d.file + ":" + d.line + ":" + d.col})]);
    li.addEventListener("click", function () {
      if (d.layer && app.m.index.has(d.layer)) app.select(app.m.index.get(d.layer), "diag");
      app.source.mark([d.line], true, "mark-err");
    });
    return li;
  }
  Report.prototype.setConvention = function (name) {
    if (!this.m.conv[name]) return;
    this.conv = name;
    if (this.opts.onConvention) this.opts.onConvention(name);
    this.drawHeader();
    this.graph.draw();
    this.table.refresh();
    this.charts.update();
    this.drawDetails();
  };
  Report.prototype.hover = function (h, from) {
    var layers = h === null || h === undefined ? [] : Array.isArray(h) ? h : [h];
    if (from !== "graph") this.graph.highlight(layers);
    this.table.hl = new Set(layers);
    this.table.restyle();
  };
  Report.prototype.select = function (i, from) {
    this.sel = i;
    this.graph.select(i, from !== "graph");
    if (from !== "table") this.table.scrollTo(i);
    this.table.restyle();
    this.charts.redraw();
    this.drawDetails();
    var lines = this.rep.layer_lines[i] || [];
    this.source.mark(lines, true);
  };
  Report.prototype.drawDetails = function () {
    var app = this, m = this.m, box = this.details, i = this.sel;
    clear(box);
    if (i < 0) {
      append(box, [el("h3", {text: "Layer details"}), el("p", {"class": "muted", text: "Click a layer in the graph, the table or a chart: " +
        "its numbers derived step by step (as `cnncalc show --explain`) and its lines of the spec appear here."})]);
      return;
    }
    var l = m.layers[i], ex = m.rep.explain, c = m.conv[this.conv];
    var lines = ex ? ex.lines[i].concat(ex.tails[this.conv][i] || []) : [];
    var g = m.layerGroup[i];
    append(box, [el("h3", {"class": "d-head", text: ex ? ex.headers[i] : l.name}),
      el("div", {"class": "d-meta"}, [
        el("span", {text: "layer " + (i + 1) + " of " + m.n}),
        g >= 0 ? el("span", {text: " · in block " + m.groups[g].name + " (" + m.groups[g].block + ")"}) : null,
        el("span", {text: " · reads " + (l.inputs.join(", ") || "-")}),
        l.shares ? el("span", {text: " · shares the weights of " + l.shares}) : null,
        m.outputOf.has(i) ? el("span", {"class": "d-output", text: " · " + (m.outs.length > 1 ? "network output " +
          m.outputOf.get(i).map(function (k) { return k + 1; }).join(", ") + " of " + m.outs.length : "the network's output")}) : null]),
      el("dl", {"class": "d-nums"}, [
        el("dt", {text: "params"}), el("dd", {"data-field": "params", text: commas(l.params)}),
        el("dt", {text: "trainable / non-trainable"}), el("dd", {text: commas(l.trainable_params) + " / " + commas(l.non_trainable_params)}),
        el("dt", {text: "MACs (" + this.conv + ")"}), el("dd", {"data-field": "macs", text: commas(c.macs[i])}),
        el("dt", {text: "FLOPs (" + this.conv + ")"}), el("dd", {"data-field": "flops", text: commas(c.flops[i])}),
        el("dt", {text: "receptive field · jump · start"}), el("dd", {text: m.rep.cells.rf[i] + " · " + m.rep.cells.jump[i] + " · " + m.rep.cells.start[i]}),
        el("dt", {text: "activations"}), el("dd", {text: commas(l.activation_elements) + " values, " + commas(l.activation_bytes) + " bytes"})]),
      el("h4", {text: "Derivation (--explain, convention " + this.conv + ")"}),
      el("pre", {"class": "explain", text: lines.length ? lines.join("\n") : "(no parameters, no operations)"}),
      el("h4", {text: "Spec lines"}),
      specLines(m.rep.layer_lines[i] || [], this.source, m.rep.groups, m.chain[i])]);
  };
  function specLines(lines, source, groups, chain) {
    var uses = {};
    chain.forEach(function (g) { if (groups[g].line) uses[groups[g].line] = groups[g]; });
    var box = el("div", {"class": "spec-lines"});
    lines.forEach(function (n) {
      var row = source.lines[n - 1];
      var text = row ? row.lastChild.textContent : "";
      var note = uses[n] ? "  ← block " + uses[n].block + " used as " + uses[n].name : "";
      var r = el("div", {"class": "sl", "data-line": n}, [el("span", {"class": "ln", text: String(n)}), el("span", {"class": "lt", text: text}),
        note ? el("span", {"class": "note", text: note}) : null]);
      r.addEventListener("click", function () { source.mark([n], true); });
      box.appendChild(r);
    });
    if (!lines.length) box.appendChild(el("p", {"class": "muted", text: "(no spec lines)"}));
    return box;
  }

  // ---- comparison (report A --compare B) ---------------------------------------------------------
  function Compare(root, data, report) {
    var cp = this;
    cp.data = data;
    cp.report = report;
    cp.a = report.m;
    cp.b = new Model(data.other);
    cp.root = root;
    cp.box = el("div", {"class": "compare"});
    root.appendChild(cp.box);
    cp.ga = null;
    cp.draw();
  }
  Compare.prototype.diff = function () {  // the `cnncalc diff --format json` document, layers that differ only
    var d = this.data.diffs[this.report.conv], entries = this.data.entries, out = {};
    for (var k in d) if (k !== "rows") out[k] = d[k];
    out.layers = d.rows.map(function (r) {
      var e = {};
      for (var f in entries[r[0]]) e[f] = entries[r[0]][f];
      e.status = r[1];
      e.changed = r[2];
      e.macs = r[3];
      e.flops = r[4];
      return e;
    });
    return out;
  };
  Compare.prototype.draw = function () {  // under the current convention; the two graphs are made once
    var cp = this, d = this.diff(), box = this.box;
    var marksA = {}, marksB = {};
    d.layers.forEach(function (e) {
      if (e.status === "unchanged") return;
      var mk = e.status === "renamed" ? "changed" : e.status;
      if (e.a !== null && cp.a.index.has(e.a)) marksA[cp.a.index.get(e.a)] = mk;
      if (e.b !== null && cp.b.index.has(e.b)) marksB[cp.b.index.get(e.b)] = mk;
    });
    var edgesA = new Map(), edgesB = new Map(), counterpart = {};  // A's name -> B's, layers and network inputs
    cp.data.pairs.forEach(function (p) { counterpart[p[0]] = p[1]; });
    d.inputs.forEach(function (e) { if (e.a !== null && e.b !== null) counterpart[e.a] = e.b; });
    var source = function (model, name) { return model.index.has(name) ? model.index.get(name) : -1 - (model.inIndex.get(name) || 0); };
    d.layers.forEach(function (e) {
      if (e.a === null || e.b === null || e.changed.indexOf("inputs") < 0) return;
      var ia = cp.a.index.get(e.a), ib = cp.b.index.get(e.b), mapped = e.inputs[0].map(function (n) { return counterpart[n]; });
      e.inputs[1].forEach(function (n) { if (mapped.indexOf(n) < 0) edgesB.set(source(cp.b, n) + ">" + ib, "new"); });
      e.inputs[0].forEach(function (n, k) { if (e.inputs[1].indexOf(mapped[k]) < 0) edgesA.set(source(cp.a, n) + ">" + ia, "gone"); });
    });
    var ioA = {input: {}, output: {}}, ioB = {input: {}, output: {}}, ioRows = [];
    ["input", "output"].forEach(function (kind) {
      d[kind + "s"].forEach(function (e) {
        if (e.status === "unchanged") return;
        var mk = e.status === "renamed" ? "changed" : e.status;
        if (e.index[0] !== null) ioA[kind][e.index[0]] = mk;
        if (e.index[1] !== null) ioB[kind][e.index[1]] = mk;
        ioRows.push(ioRow(kind, e));
      });
    });
    var s = d.summary, ioText = ioSummary(d);
    var head = el("div", {"class": "c-head"}, [
      el("h2", {text: "Compared with " + d.b.name}),
      el("div", {"class": "subtitle", text: d.a.file + " → " + d.b.file + " · convention " + d.convention}),
      el("div", {"class": "conv-summary", text: cp.report.m.conv[d.convention].summary}),
      el("div", {"class": "c-summary", text: s.changed + " changed, " + s.added + " added, " + s.removed + " removed, " +
        s.renamed + " renamed, " + s.unchanged + " unchanged"}),
      el("div", {"class": "c-io-summary" + (ioText ? " changed" : ""), text: ioText ? ioText : "inputs and outputs as in A: " + ioNames(d.b)}),
      el("div", {"class": "c-legend"}, [legend("added", "added in B"), legend("removed", "removed from A"), legend("changed", "changed"),
        edgesA.size || edgesB.size ? legend("new", "a read B adds (a rewired input)", true) : null,
        edgesA.size || edgesB.size ? legend("gone", "a read B drops", true) : null]),
      ioRows.length ? el("table", {"class": "c-io"}, [el("thead", null, el("tr", null, ["", "network", "name", "shape", "position"].map(function (h) {
        return el("th", {text: h}); }))), el("tbody", null, ioRows)]) : null]);
    var totals = el("table", {"class": "c-totals"}, [el("thead", null, el("tr", null, ["", "A", "B", "change", "relative"].map(function (h) { return el("th", {text: h}); }))),
      el("tbody", null, Object.keys(d.totals).map(function (k) {
        var t = d.totals[k];
        return el("tr", {"data-total": k, "class": num(t.change) ? "changed" : null}, [el("th", {text: k}), el("td", {"class": "num", text: commas(t.a)}),
          el("td", {"class": "num", text: commas(t.b)}), el("td", {"class": "num", text: signed(t.change)}), el("td", {"class": "num", text: t.relative_text})]);
      }))]);
    var differ = d.layers.filter(function (e) { return e.status !== "unchanged"; });
    var cols = DIFF_COLS.filter(function (c) { return !c.link || differ.some(function (e) { return linkText(e, c.key) !== ""; }); });
    var rows = differ.map(function (e) { return diffRow(e, cp, cols); });
    var list = el("table", {"class": "c-layers"}, [el("thead", null, el("tr", null, ["", "layer"].concat(cols.map(function (c) { return c.label; })).map(function (h) { return el("th", {text: h}); }))),
      el("tbody", null, rows.length ? rows : el("tr", null, el("td", {colspan: cols.length + 2, "class": "muted", text: "no layer differs"})))]);
    if (!cp.ga) {
      cp.headBox = el("div");
      cp.listBox = el("div");
      var left = el("div", {"class": "c-graph", "data-side": "a"}, [el("h3", {text: "A: " + d.a.name})]);
      var right = el("div", {"class": "c-graph", "data-side": "b"}, [el("h3", {text: "B: " + d.b.name})]);
      append(box, [cp.headBox, el("div", {"class": "c-graphs"}, [left, right]), el("h3", {text: "Layers that differ"}), cp.listBox]);
      var hoverBoth = function (side) {
        return function (h) {
          var ls = h === null || h === undefined ? [] : Array.isArray(h) ? h : [h];
          var other = [];
          ls.forEach(function (i) {
            var name = (side === "a" ? cp.a : cp.b).layers[i].name, e = cp.byName[side][name];
            var o = e && (side === "a" ? e.b : e.a);
            var om = side === "a" ? cp.b : cp.a;
            if (o !== null && o !== undefined && om.index.has(o)) other.push(om.index.get(o));
          });
          (side === "a" ? cp.gb : cp.ga).highlight(other);
          (side === "a" ? cp.ga : cp.gb).highlight(ls);
        };
      };
      cp.byName = {a: {}, b: {}};
      cp.data.pairs.forEach(function (p) { var e = {a: p[0], b: p[1]}; cp.byName.a[p[0]] = e; cp.byName.b[p[1]] = e; });
      var conv = function () { return cp.report.conv; };
      cp.ga = new Graph(cp.a, left, {conv: conv, marks: marksA, ioMarks: ioA, edgeMarks: edgesA, onHover: hoverBoth("a"), onSelect: function (i) { cp.pick("a", i); }});
      cp.gb = new Graph(cp.b, right, {conv: conv, marks: marksB, ioMarks: ioB, edgeMarks: edgesB, onHover: hoverBoth("b"), onSelect: function (i) { cp.pick("b", i); }});
      // open the blocks that hold a difference when they are few; otherwise they stay closed and marked
      [[cp.ga, marksA], [cp.gb, marksB]].forEach(function (gm) {
        var g = gm[0], holders = new Set();
        Object.keys(gm[1]).forEach(function (i) { g.m.chain[+i].forEach(function (k) { holders.add(k); }); });
        if (holders.size <= 4) Object.keys(gm[1]).forEach(function (i) { g.reveal(+i); });
      });
    }
    cp.ga.marks = marksA;
    cp.gb.marks = marksB;
    cp.ga.opts.ioMarks = ioA;
    cp.gb.opts.ioMarks = ioB;
    cp.ga.opts.edgeMarks = edgesA;
    cp.gb.opts.edgeMarks = edgesB;
    cp.ga.cache.clear();
    cp.gb.cache.clear();
    clear(cp.headBox);
    append(cp.headBox, [head, totals]);
    clear(cp.listBox);
    cp.listBox.appendChild(list);
  };
  Compare.prototype.show = function () {
    this.ga.draw();
    this.gb.draw();
    if (this.scrolled) return;
    this.scrolled = true;  // the first time: each graph shows its first difference
    [this.ga, this.gb].forEach(function (g) {
      var first = Object.keys(g.marks || {}).map(Number).sort(function (x, y) { return x - y; })[0];
      if (first !== undefined) g.scrollTo(first);
    });
  };
  Compare.prototype.pick = function (side, i) {
    var cp = this, name = (side === "a" ? cp.a : cp.b).layers[i].name, e = cp.byName[side][name];
    if (side === "a") cp.ga.select(i, true); else cp.gb.select(i, true);
    var o = e && (side === "a" ? e.b : e.a), om = side === "a" ? cp.b : cp.a;
    if (o !== null && o !== undefined && om.index.has(o)) (side === "a" ? cp.gb : cp.ga).select(om.index.get(o), true);
  };
  function signed(v) { var n = num(v); return n > 0 ? "+" + commas(v) : n === 0 ? "0" : commas(v); }
  var MARKS = {changed: "~", added: "+", removed: "−", renamed: "="};
  function rfText(v) { return v === "global" ? "global" : Array.isArray(v) ? (v[0] === v[1] || v.length === 1 ? String(v[0]) : v.join("x")) : "-"; }
  function namesText(v) { return v === null ? "own" : Array.isArray(v) ? (v.length ? v.join(", ") : "-") : String(v); }  // null: its own weights
  // the columns of `cnncalc diff`'s table; what a layer reads and whose weights it shares only when a row says something
  var DIFF_COLS = [{key: "type", label: "type", fmt: String}, {key: "output_shape", label: "output shape", fmt: shape},
    {key: "params", label: "params", fmt: commas, num: true}, {key: "macs", label: "MACs", fmt: commas, num: true},
    {key: "flops", label: "FLOPs", fmt: commas, num: true}, {key: "receptive_field", label: "RF", fmt: rfText, num: true},
    {key: "inputs", label: "reads", fmt: namesText, link: true}, {key: "shares", label: "shares weights of", fmt: namesText, link: true}];
  function linkText(e, key) {  // as `cnncalc diff`: a matched layer's reading or sharing only when it changed
    var pair = e[key], v;
    if (e.a !== null && e.b !== null) return e.changed.indexOf(key) >= 0 ? namesText(pair[0]) + " → " + namesText(pair[1]) : "";
    v = e.b === null ? pair[0] : pair[1];
    return v === null || (Array.isArray(v) && !v.length) ? "" : namesText(v);
  }
  function legend(kind, text, edge) {
    return el("span", {"class": "lg"}, [el("span", {"class": (edge ? "lg-edge e-" : "lg-node n-") + kind}), text]);
  }
  function ioSummary(d) {  // `inputs: 1 added; outputs: 1 removed`, or ""
    var parts = [];
    ["inputs", "outputs"].forEach(function (kind) {
      var said = ["changed", "added", "removed", "renamed"].map(function (st) {
        var n = d[kind].filter(function (e) { return e.status === st; }).length;
        return n ? n + " " + st : "";
      }).filter(Boolean).join(", ");
      if (said) parts.push(kind + ": " + said);
    });
    return parts.join("; ");
  }
  function ioNames(side) {
    var one = function (xs) { return xs.map(function (x) { return x.name + " " + shape(x.shape); }).join(", "); };
    return one(side.inputs) + " → " + one(side.outputs);
  }
  function ioRow(kind, e) {
    var val = function (key, fmt) {
      var p = e[key];
      return p[0] === null || p[1] === null ? fmt(p[0] === null ? p[1] : p[0]) : e.changed.indexOf(key) >= 0 ? fmt(p[0]) + " → " + fmt(p[1]) : fmt(p[1]);
    };
    var name = e.a !== null && e.b !== null && e.a !== e.b ? e.a + " → " + e.b : (e.b !== null ? e.b : e.a);
    var td = function (key, text, cls) {
      return el("td", {"class": (e.status === "changed" && e.changed.indexOf(key) >= 0 ? "changed " : "") + (cls || ""), "data-field": key, text: text});
    };
    return el("tr", {"class": "d-" + e.status, "data-status": e.status, "data-io": kind}, [el("td", {"class": "mark", text: MARKS[e.status] || ""}),
      el("td", {text: kind}), td("layer", name), td("shape", val("shape", shape)), td("index", val("index", function (k) { return String(k + 1); }), "num")]);
  }
  function diffRow(e, cp, cols) {
    var cell = function (c) {
      var pair = e[c.key], ch = e.changed.indexOf(c.key) >= 0, text;
      if (c.link) text = linkText(e, c.key);
      else {
        var a = pair[0] === null ? null : c.fmt(pair[0]), b = pair[1] === null ? null : c.fmt(pair[1]);
        text = a === null ? b : b === null ? a : ch ? a + " → " + b : b;
      }
      return el("td", {"class": (ch && text !== "" ? "changed " : "") + (c.num ? "num" : ""), "data-field": c.key, text: text});
    };
    var name = e.a !== null && e.b !== null && e.a !== e.b ? e.a + " → " + e.b : (e.b !== null ? e.b : e.a);
    var tr = el("tr", {"class": "d-" + e.status, "data-status": e.status}, [el("td", {"class": "mark", text: MARKS[e.status] || ""}), el("td", {text: name})]
      .concat(cols.map(cell)));
    tr.addEventListener("click", function () {
      if (e.a !== null && cp.a.index.has(e.a)) cp.pick("a", cp.a.index.get(e.a));
      else if (e.b !== null && cp.b.index.has(e.b)) cp.pick("b", cp.b.index.get(e.b));
    });
    return tr;
  }

  // ---- a spec with errors ---------------------------------------------------------------------
  function Errors(root, data) {
    var lines = data.errors.map(function (d) { return d.line; });
    append(root, [el("header", {"class": "top"}, el("div", {"class": "title"}, [el("h1", {text: data.file + ": the spec has errors"}),
      el("div", {"class": "subtitle", text: data.errors.length + " error" + (data.errors.length === 1 ? "" : "s") + "; the page shows the network again once they are fixed"})])),
      el("section", {"class": "diags errors"}, el("ul", {"class": "diag-list"}, data.errors.map(function (d) {
        return el("li", {"class": "diag error", "data-line": d.line}, [el("span", {"class": "msg", text: d.text})]);
      })))]);
    var srcHost = el("section", {"class": "source wide"});
    root.appendChild(srcHost);
    var src = new Source(srcHost, data.source);
    src.mark(lines, true, "mark-err");
  }

  // ---- watch: ask the local server whether the spec changed, reload when it has ------------------
  function watch(token) {
    var busy = false;
    setInterval(function () {
      if (busy) return;
      busy = true;
      fetch("/__cnncalc/version", {cache: "no-store"}).then(function (r) { return r.ok ? r.text() : token; })
        .then(function (v) { busy = false; if (v && v !== token) location.reload(); })
        .catch(function () { busy = false; });
    }, 500);
  }

  // ---- start ---------------------------------------------------------------------------------
  function start() {
    var root = document.getElementById("app");
    if (DATA.kind === "errors") {
      Errors(root, DATA);
    } else if (DATA.kind === "compare") {
      var tabs = el("nav", {"class": "tabs"});
      var pa = el("div", {"class": "tab-page", "data-tab": "compare"}), pr = el("div", {"class": "tab-page", "data-tab": "report", hidden: "hidden"});
      append(root, [tabs, pa, pr]);
      var cmp = null, shown = {report: false};
      var report = new Report(pr, DATA.report, {convention: DATA.convention, onConvention: function (name) {
        var top = tabs.querySelector(".conv-select-top");
        if (top) top.value = name;
        if (cmp) { cmp.draw(); if (!pa.hidden) cmp.show(); }
      }});
      cmp = new Compare(pa, DATA, report);
      var tab = function (name, label) {
        var b = el("button", {type: "button", "class": "tab", "data-tab": name, text: label});
        b.addEventListener("click", function () {
          pa.hidden = name !== "compare";
          pr.hidden = name !== "report";
          Array.prototype.forEach.call(tabs.children, function (t) { t.classList.toggle("active", t === b); });
          if (name === "report") { report.graph.cache.clear(); report.graph.draw(); report.charts.plots.forEach(function (p) { p.setSize({width: Math.max(300, p.root.parentNode.clientWidth || 800), height: 150}); }); shown.report = true; }
          else cmp.show();
        });
        return b;
      };
      append(tabs, [tab("compare", "Compare A → B"), tab("report", "Report of A: " + DATA.report.doc.name),
        el("label", {"class": "tab-conv"}, ["Convention ", convSelect(report)])]);
      tabs.firstChild.classList.add("active");
      cmp.show();
    } else {
      var rep = new Report(root, DATA.report, {convention: DATA.convention});
      rep.graph.draw();
    }
    if (DATA.watch && /^https?:$/.test(location.protocol)) watch(DATA.watch);  // not when opened as a file
    // milliseconds from the start of navigation (the page opened) to interactive, and of this script alone
    document.documentElement.setAttribute("data-ready-ms", String(Math.round(performance.now())));
    document.documentElement.setAttribute("data-script-ms", String(Math.round(performance.now() - t0)));
    document.documentElement.setAttribute("data-ready", "1");
  }
  function convSelect(report) {
    var s = el("select", {"class": "conv-select-top", "aria-label": "MACs/FLOPs convention"},
      report.m.rep.conventions.map(function (cv) { return el("option", {value: cv.name, title: cv.summary, selected: cv.name === report.conv ? "selected" : null, text: cv.name}); }));
    s.addEventListener("change", function () { report.setConvention(s.value); });
    return s;
  }

  try {
    start();
  } catch (err) {
    var box = document.getElementById("app");
    clear(box);
    box.appendChild(el("pre", {"class": "fatal", text: "cnncalc report: the page could not be drawn: " + (err && err.stack || err)}));
    throw err;
  }
})();
