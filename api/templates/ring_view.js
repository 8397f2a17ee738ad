/* The ring page's graph: layout, filters (kind, hubs, time), expansion on demand, path and
   money-cycle highlights. window.ringView exposes the state a test (or a person) can read:
   stabilised, network, data, highlighted, expanded. */
window.ringView = (function () {
  var view = {stabilised: false, highlighted: [], expanded: []};
  var hide = {kinds: {}, hubs: false, from: -Infinity, until: Infinity};
  var nodes, edges, network, config, saved = {};

  function byId(id) { return document.getElementById(id); }
  function say(text) { byId("explore-status").textContent = text; }

  function settled() {
    network.setOptions({physics: {enabled: false}});
    view.stabilised = true;
    document.body.dataset.stabilised = "true";
    byId("layout-status").textContent =
      nodes.length + " nodes and " + edges.length + " links laid out.";
  }

  function visible(node) {
    if (hide.kinds[node.kind]) return false;
    if (hide.hubs && node.hub) return false;
    var times = node.times || [];
    if (times.length && !times.some(function (t) { return t >= hide.from && t <= hide.until; })) {
      return false;
    }
    return true;
  }

  function refilter() {
    var changes = nodes.get().map(function (n) { return {id: n.id, hidden: !visible(n)}; });
    nodes.update(changes);
    var shown = changes.filter(function (c) { return !c.hidden; }).length;
    view.visible = shown;
    var marks = document.querySelectorAll("#timeline circle.mark");
    marks.forEach(function (mark) {
      var t = Number(mark.dataset.ms);
      mark.classList.toggle("out", t < hide.from || t > hide.until);
    });
    var label = byId("time-shown");
    if (label) label.textContent = shown + " of " + nodes.length + " nodes shown";
  }

  function when(ms) { return new Date(ms).toISOString().slice(0, 16).replace("T", " "); }

  function onTime() {
    var from = Number(byId("time-from").value), until = Number(byId("time-until").value);
    hide.from = Math.min(from, until);
    hide.until = Math.max(from, until);
    byId("time-from-text").textContent = when(hide.from);
    byId("time-until-text").textContent = when(hide.until);
    refilter();
  }

  function expand(id) {
    if (!id) { say("Select a node first."); return; }
    var full = byId("expand-hubs").checked;
    if (id.slice(-5) === "#more") { id = id.slice(0, -5); full = true; }
    if (id.indexOf("Group:") === 0) {
      say("A group stands for several accounts: show every member to expand one.");
      return;
    }
    var url = config.neighbours + (config.neighbours.indexOf("?") < 0 ? "?" : "&") +
      "node=" + encodeURIComponent(id) + (full ? "&hubs=true" : "");
    say("Fetching the neighbours of " + id + "…");
    fetch(url, {headers: {Accept: "application/json"}}).then(function (answer) {
      return answer.json().then(function (body) {
        if (!answer.ok) throw new Error(body.detail || answer.statusText);
        return body;
      });
    }).then(function (got) {
      var at = network.getPositions([id])[id] || {x: 0, y: 0};
      var parent = nodes.get(id) || {};
      var fresh = got.nodes.filter(function (n) { return !nodes.get(n.id); });
      if (nodes.get(id + "#more") && full) nodes.remove(id + "#more");
      fresh.forEach(function (n, i) {
        var angle = 2 * Math.PI * i / Math.max(fresh.length, 1);
        n.x = at.x + 180 * Math.cos(angle);
        n.y = at.y + 180 * Math.sin(angle);
        if (parent.level !== undefined) n.level = parent.level + 1;
      });
      nodes.add(fresh);
      var known = {};
      edges.get().forEach(function (e) { known[e.from + "|" + e.to] = true; });
      edges.add(got.edges.filter(function (e) { return !known[e.from + "|" + e.to]; }));
      view.expanded.push(id);
      refilter();
      if (fresh.length && !config.grouped) settleAround(fresh);
      say("Expanded " + id + ": " + fresh.length + " node" + (fresh.length === 1 ? "" : "s") +
          " added" + (got.hidden ? ", " + got.hidden + " more collapsed into one node" : "") + ".");
    }).catch(function (error) { say("Could not expand " + id + ": " + error.message); });
  }

  /* Lay out only what an expansion added: everything already placed stays where the
     investigator left it. */
  function settleAround(fresh) {
    var added = {};
    fresh.forEach(function (n) { added[n.id] = true; });
    var placed = nodes.getIds().filter(function (id) { return !added[id]; });
    nodes.update(placed.map(function (id) { return {id: id, fixed: true}; }));
    network.setOptions({physics: {enabled: true}});
    network.once("stabilizationIterationsDone", function () {
      network.setOptions({physics: {enabled: false}});
      nodes.update(placed.map(function (id) { return {id: id, fixed: false}; }));
    });
    network.stabilize(120);
  }

  /* Members are drawn as themselves, or (grouped view) by the group that holds them. */
  function drawnAs(account) {
    var id = "Account:" + account;
    if (nodes.get(id)) return id;
    var holder = nodes.get({filter: function (n) {
      return (n.accounts || []).indexOf(account) >= 0;
    }})[0];
    return holder ? holder.id : null;
  }

  function clearHighlight() {
    Object.keys(saved).forEach(function (key) {
      var kept = saved[key];
      (kept.edge ? edges : nodes).update(kept.was);
    });
    saved = {};
    view.highlighted = [];
  }

  function keep(set, item, fields, isEdge) {
    var was = {id: item.id};
    fields.forEach(function (f) { was[f] = item[f] === undefined ? null : item[f]; });
    saved[(isEdge ? "e:" : "n:") + item.id] = {edge: isEdge, was: was};
  }

  function highlight(nodeIds, edgeIds, what) {
    clearHighlight();
    var on = {};
    nodeIds.forEach(function (id) { on[id] = true; });
    nodes.get().forEach(function (n) {
      keep(nodes, n, ["opacity", "borderWidth", "color"], false);
      nodes.update(on[n.id]
        ? {id: n.id, opacity: 1, borderWidth: 6,
           color: {background: (n.color || {}).background, border: "#f5a700"}}
        : {id: n.id, opacity: 0.2});
    });
    edgeIds.forEach(function (id) {
      var e = edges.get(id);
      keep(edges, e, ["color", "width"], true);
      edges.update({id: id, color: "#f5a700", width: 6});
    });
    view.highlighted = nodeIds.slice();
    say(what);
  }

  function findPath() {
    var a = drawnAs(byId("path-from").value), b = drawnAs(byId("path-to").value);
    if (!a || !b) { say("One of these members is not drawn."); return; }
    var next = {};
    edges.get().forEach(function (e) {
      (next[e.from] = next[e.from] || []).push([e.to, e.id]);
      (next[e.to] = next[e.to] || []).push([e.from, e.id]);
    });
    var came = {}, queue = [a];
    came[a] = null;
    while (queue.length && !(b in came)) {
      var at = queue.shift();
      (next[at] || []).forEach(function (step) {
        if (!(step[0] in came)) { came[step[0]] = [at, step[1]]; queue.push(step[0]); }
      });
    }
    if (!(b in came)) { say("No path between them in the graph drawn."); return; }
    var onPath = [b], links = [];
    for (var here = b; came[here]; here = came[here][0]) {
      links.push(came[here][1]);
      onPath.unshift(came[here][0]);
    }
    highlight(onPath, links, "Path of " + links.length + " link" + (links.length === 1 ? "" : "s") +
              ": " + onPath.join(" → "));
  }

  function showCycle() {
    var drawn = config.cycle.map(function (id) { return drawnAs(id.slice(8)); })
      .filter(function (id) { return id; });
    var on = {};
    drawn.forEach(function (id) { on[id] = true; });
    var links = edges.get({filter: function (e) {
      return on[e.from] && on[e.to] && e.from !== e.to && e.arrows === "to";
    }}).map(function (e) { return e.id; });
    highlight(Array.from(new Set(drawn)), links,
              "Money cycle: " + config.cycle.length + " accounts, " + links.length + " links drawn.");
  }

  view.start = function (given) {
    config = given;
    nodes = new vis.DataSet(given.nodes);
    edges = new vis.DataSet(given.edges);
    view.nodes = nodes.length;
    view.edges = edges.length;
    view.data = {nodes: nodes, edges: edges};
    network = new vis.Network(byId("network"), {nodes: nodes, edges: edges}, given.options);
    view.network = network;
    if (given.options.physics && given.options.physics.enabled === false) {
      network.once("afterDrawing", settled);
    } else {
      network.once("stabilizationIterationsDone", settled);
    }
    network.on("doubleClick", function (event) { if (event.nodes.length) expand(event.nodes[0]); });
    byId("expand-selected").addEventListener("click", function () {
      expand(network.getSelectedNodes()[0]);
    });
    byId("hide-hubs").addEventListener("change", function (event) {
      hide.hubs = event.target.checked;
      refilter();
    });
    document.querySelectorAll(".kind-filter").forEach(function (box) {
      box.addEventListener("change", function () {
        hide.kinds[box.dataset.kind] = !box.checked;
        refilter();
      });
    });
    if (byId("time-from")) {
      byId("time-from").addEventListener("input", onTime);
      byId("time-until").addEventListener("input", onTime);
    }
    byId("path-find").addEventListener("click", findPath);
    if (byId("cycle-show")) byId("cycle-show").addEventListener("click", showCycle);
    byId("highlight-clear").addEventListener("click", function () { clearHighlight(); say(""); });
    view.expand = expand;
    refilter();
  };
  return view;
})();
