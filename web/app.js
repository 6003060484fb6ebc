/* The ahead dashboard: one page over the daemon's API (docs/API.md,
 * "Dashboard"). No build step: this file, app.css and the vendored uPlot
 * are served as they are (src/server/web.c).
 *
 * Every chart has a <dl class="summary" data-chart="..."> of its latest
 * values: each <dd data-k="capacity" data-v="4000">4 cores</dd> holds the
 * raw integer in the dimension's base unit (millicores, bytes) and the
 * readable text, so a test (tests/cli_dashboard.sh) can read what the
 * canvas shows.
 *
 * Live: the page reads GET /v1/events?watch=1 (Server-Sent Events) with
 * fetch(), since EventSource cannot send the Authorization header, and
 * refreshes the panels an event touches. */
"use strict";
(function () {
	const TOKEN_KEY = "ahead.token";
	const SAMPLE_MS = 5000;      /* fallback sampling of GET /v1/pools */
	const REFRESH_MS = 10000;    /* history mode: re-read each pool's history */
	const KEEP_SAMPLES = 720;
	const SHOW_EVENTS = 25;
	const DECISIONS = new Set(["grant", "queue", "refuse", "dequeue", "timeout", "preempt"]);
	const RESIZES = new Set(["resize", "scale"]);

	const $ = (sel) => document.querySelector(sel);
	let token = null;

	const st = {
		poolHistory: null,   /* null: not known yet; true: GET /v1/pools/{name}/history; false: sampling */
		pools: new Map(),    /* name -> {item, samples: [{t, capacity, allocated, used}], forecast, chart: {dim -> uPlot}} */
		workloadRoute: null, /* GET /v1/workloads exists? */
		forecastRoute: null, /* GET /v1/workloads/{name}/forecast exists? */
		describes: new Map(),/* allocation id -> describe */
		allocs: [],
		events: [],          /* newest last */
		rev: 0,
		wchart: null,
		stream: null,
		live: 0,             /* events received through the stream */
	};

	/* ---- units ---- */

	function kindOf(dim) {
		if (dim === "cpu")
			return "cpu";
		if (/^(memory|mem|io)/.test(dim) || /bytes$/.test(dim))
			return "bytes";
		return "raw";
	}
	function trim(x) {
		return String(Math.round(x * 100) / 100);
	}
	function fmt(dim, v) {
		if (v === null || v === undefined || Number.isNaN(v))
			return "-";
		v = Math.round(v);
		if (v === 0)
			return "0";
		switch (kindOf(dim)) {
		case "cpu":
			if (Math.abs(v) < 1000)
				return v + "m";
			return trim(v / 1000) + (v === 1000 ? " core" : " cores");
		case "bytes": {
			const u = ["B", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
			let i = 0, x = v;
			while (Math.abs(x) >= 1024 && i < u.length - 1) {
				x /= 1024;
				i++;
			}
			return i ? trim(x) + u[i] : v + "B";
		}
		default:
			return String(v);
		}
	}
	function fmtRes(r) {
		if (!r || typeof r !== "object")
			return "";
		return Object.keys(r).map((d) => d + " " + fmt(d, r[d])).join(", ");
	}
	function fmtTime(s) {
		if (!s)
			return "";
		return s.replace("T", " ").replace(/\.\d+Z$/, "Z");
	}
	function secs(s) {
		return Date.parse(s) / 1000;
	}

	/* ---- DOM helpers ---- */

	function el(tag, attrs, text) {
		const e = document.createElement(tag);
		for (const k in attrs || {})
			e.setAttribute(k, attrs[k]);
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		return e;
	}
	/* entries: [key, label, value, dim]; a null value is left out. */
	function summary(dl, chart, entries, note) {
		dl.setAttribute("data-chart", chart);
		dl.replaceChildren();
		for (const [k, label, v, dim] of entries) {
			if (v === null || v === undefined)
				continue;
			dl.append(el("dt", {}, label));
			dl.append(el("dd", {"data-k": k, "data-v": String(Math.round(v))}, fmt(dim, v)));
		}
		if (note) {
			dl.append(el("dt", {}, "note"));
			dl.append(el("dd", {"data-k": "note", class: "muted"}, note));
		}
	}
	function rows(table, list, cells) {
		const tb = table.tBodies[0];
		tb.replaceChildren();
		for (const x of list) {
			const tr = el("tr");
			for (const c of cells(x))
				tr.append(el("td", {}, c));
			tb.append(tr);
		}
		table.setAttribute("data-count", String(list.length));
		if (!list.length) {
			const tr = el("tr", {class: "empty"});
			tr.append(el("td", {colspan: String(table.tHead.rows[0].cells.length)}, "none"));
			tb.append(tr);
		}
	}
	function setStatus(state, text) {
		const s = $("#status");
		s.setAttribute("data-state", state);
		s.textContent = text;
	}

	/* ---- the API ---- */

	class Unauthorized extends Error {}

	async function api(path) {
		const r = await fetch(path, {headers: {Authorization: "Bearer " + token}, cache: "no-store"});
		let j = null;
		try {
			j = await r.json();
		} catch (e) {
			j = null;
		}
		if (r.status === 401) {
			login((j && j.error && j.error.message) || "the token was refused");
			throw new Unauthorized();
		}
		return {status: r.status, j: j};
	}
	/* A 404 that says the daemon has no such route (an older daemon), as
	 * opposed to no such pool or no history. */
	function noRoute(r) {
		return r.status === 404 && r.j && r.j.error && /^no such route/.test(r.j.error.message || "");
	}

	/* ---- charts ---- */

	function chartWidth(div) {
		return Math.max(320, Math.floor(div.getBoundingClientRect().width) || 560);
	}
	/* byte axes step in powers of two (1Gi, 2Gi, 4Gi), not 2.33Gi */
	const POW2 = Array.from({length: 63}, (_, i) => Math.pow(2, i));
	function yAxis(dim) {
		const a = {size: 76, values: (u, vals) => vals.map((v) => fmt(dim, v))};
		if (kindOf(dim) === "bytes")
			a.incrs = POW2;
		return a;
	}
	function makeChart(div, dim, series, bands) {
		const opts = {
			width: chartWidth(div),
			height: 200,
			scales: {x: {time: true}, y: {range: (u, mn, mx) => [0, mx > 0 ? mx * 1.1 : 1]}},
			series: [{}].concat(series),
			axes: [{}, yAxis(dim)],
			bands: bands || [],
			legend: {live: false},
		};
		const data = [[]].concat(series.map(() => []));
		return new uPlot(opts, data, div);
	}
	/* capacity and allocations hold their level until the next change */
	const STEP = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({align: 1}) : undefined;
	const POOL_SERIES = [
		{label: "capacity", stroke: "#718096", dash: [6, 4], width: 1.5, paths: STEP},
		{label: "allocated", stroke: "#2b6cb0", width: 2, fill: "rgba(43,108,176,0.10)", paths: STEP},
		{label: "used", stroke: "#2f855a", width: 2},
		{label: "band low", stroke: "rgba(221,107,32,0.5)", width: 1},
		{label: "band high", stroke: "rgba(221,107,32,0.5)", width: 1},
		{label: "forecast", stroke: "#dd6b20", dash: [4, 3], width: 1.5},
	];
	const BAND = [{series: [5, 4], fill: "rgba(221,107,32,0.15)"}];

	/* ---- pools ---- */

	function poolCard(name, dims) {
		let card = document.getElementById("pool-" + name);
		if (card)
			return card;
		card = el("div", {class: "pool", id: "pool-" + name});
		card.append(el("h3", {}, name));
		const grid = el("div", {class: "charts"});
		for (const d of dims) {
			const box = el("div", {class: "chartbox"});
			box.append(el("h4", {}, d));
			box.append(el("div", {class: "chart", id: "chart-pool-" + name + "-" + d}));
			box.append(el("dl", {class: "summary", "data-chart": "pool-" + name + "-" + d}));
			grid.append(box);
		}
		card.append(grid);
		card.append(el("dl", {class: "summary counts", "data-chart": "pool-" + name}));
		$("#pools").append(card);
		return card;
	}

	function drawPool(p) {
		const name = p.item.pool, dims = Object.keys(p.item.dimensions);
		poolCard(name, dims);
		const fc = p.forecast && Array.isArray(p.forecast.points) ? p.forecast.points : [];
		for (const d of dims) {
			const xs = [], cap = [], alloc = [], used = [], lo = [], hi = [], pt = [];
			for (const s of p.samples) {
				xs.push(s.t);
				cap.push(s.capacity ? s.capacity[d] ?? null : null);
				alloc.push(s.allocated ? s.allocated[d] ?? null : null);
				used.push(s.used ? s.used[d] ?? null : null);
				lo.push(null), hi.push(null), pt.push(null);
			}
			for (const f of fc) {
				const t = secs(f.time);
				if (xs.length && t <= xs[xs.length - 1])
					continue;
				xs.push(t);
				cap.push(null), alloc.push(null), used.push(null);
				lo.push(f.lower ? f.lower[d] ?? null : null);
				hi.push(f.upper ? f.upper[d] ?? null : null);
				pt.push(f.point ? f.point[d] ?? null : null);
			}
			/* one sample (a daemon just started): uPlot stretches a single x
			 * over years; the level holds, so draw it for a second */
			if (xs.length === 1) {
				xs.push(xs[0] + 1);
				cap.push(cap[0]), alloc.push(alloc[0]), used.push(used[0]);
				lo.push(null), hi.push(null), pt.push(null);
			}
			if (!p.chart[d]) {
				const div = document.getElementById("chart-pool-" + name + "-" + d);
				/* sampled by the page: only what GET /v1/pools says */
				p.chart[d] = st.poolHistory ? makeChart(div, d, POOL_SERIES, BAND) : makeChart(div, d, POOL_SERIES.slice(0, 2));
			}
			p.chart[d].setData(st.poolHistory ? [xs, cap, alloc, used, lo, hi, pt] : [xs, cap, alloc]);
			const now = p.item.dimensions[d];
			const last = p.samples.length ? p.samples[p.samples.length - 1] : null;
			const f0 = fc.length ? fc[0] : null;
			const entries = [
				["capacity", "capacity", now.capacity, d],
				["allocated", "allocated", now.used, d],
				["free", "free", now.free, d],
				["waiting", "waiting", now.waiting, d],
			];
			if (st.poolHistory) {
				entries.push(["used", "used", last && last.used ? last.used[d] ?? null : null, d]);
				if (f0) {
					entries.push(["band_lower", "band low", f0.lower ? f0.lower[d] ?? null : null, d]);
					entries.push(["forecast", "forecast", f0.point ? f0.point[d] ?? null : null, d]);
					entries.push(["band_upper", "band high", f0.upper ? f0.upper[d] ?? null : null, d]);
				}
			}
			let note = null;
			if (!st.poolHistory)
				note = "sampled since the page opened (no used, no band: the daemon has no pool history)";
			else if (!f0)
				note = "no forecast yet (too few samples)";
			summary(document.querySelector('dl[data-chart="pool-' + name + "-" + d + '"]'), "pool-" + name + "-" + d,
				entries, note);
		}
		summary(document.querySelector('dl[data-chart="pool-' + name + '"]'), "pool-" + name, [
			["allocations", "allocations", p.item.allocations, "raw"],
			["queued", "queued", p.item.queued, "raw"],
		]);
	}

	function sampleOf(item, t) {
		const s = {t: t, capacity: {}, allocated: {}, used: null};
		for (const d in item.dimensions) {
			s.capacity[d] = item.dimensions[d].capacity;
			s.allocated[d] = item.dimensions[d].used;
		}
		return s;
	}

	async function refreshPools() {
		const r = await api("/v1/pools");
		if (r.status !== 200)
			throw new Error("GET /v1/pools: " + r.status);
		const now = Date.now() / 1000;
		const seen = new Set();
		for (const item of r.j.items) {
			seen.add(item.pool);
			let p = st.pools.get(item.pool);
			if (!p) {
				p = {item: item, samples: [], forecast: null, chart: {}};
				st.pools.set(item.pool, p);
			}
			p.item = item;
			if (st.poolHistory === null || st.poolHistory) {
				const h = await api("/v1/pools/" + encodeURIComponent(item.pool) + "/history");
				if (noRoute(h)) {
					st.poolHistory = false;
				} else if (h.status === 200 && h.j) {
					st.poolHistory = true;
					p.samples = (h.j.samples || []).map((s) => ({t: secs(s.time), capacity: s.capacity,
						allocated: s.allocated, used: s.used}));
					p.forecast = h.j.forecast || null;
				}
			}
			if (!st.poolHistory) {
				p.samples.push(sampleOf(item, now));
				if (p.samples.length > KEEP_SAMPLES)
					p.samples.shift();
			}
			drawPool(p);
		}
		for (const name of Array.from(st.pools.keys()))
			if (!seen.has(name)) {
				const card = document.getElementById("pool-" + name);
				if (card)
					card.remove();
				st.pools.delete(name);
			}
		$("#pools-mode").textContent = st.poolHistory
			? "Capacity, allocated and used per dimension from the daemon's samples (GET /v1/pools/{name}/history), with the forecast band ahead."
			: "This daemon has no pool history route: capacity and allocated are sampled by this page every " +
			  SAMPLE_MS / 1000 + " s since it opened (no used, no forecast band).";
		$("#revision").textContent = "revision " + r.j.resourceVersion;
	}

	/* ---- queue and events ---- */

	async function refreshQueue() {
		const r = await api("/v1/queue");
		if (r.status !== 200)
			return;
		const items = r.j.items || [];
		rows($("#queue"), items, (q) => [q.id, q.tenant, q.pool, q.class, fmtRes(q.resources), fmtTime(q.arrived),
			fmtTime(q.deadline)]);
		summary(document.querySelector('dl[data-chart="queue"]'), "queue", [["waiting", "waiting", items.length, "raw"]]);
	}

	/* Anomaly events the usage history holds, the last 24 h (GET
	 * /v1/anomalies; a tenant token may not read them: the panel says so). */
	async function refreshAnomalies() {
		const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
		const r = await api("/v1/anomalies?since=" + encodeURIComponent(since) + "&limit=25");
		const none = $("#anomalies-none"), t = $("#anomalies");
		if (r.status !== 200) {
			none.textContent = r.status === 403 ? "Not visible to this token." : "Not available from this daemon.";
			t.setAttribute("data-count", "0");
			return;
		}
		const items = (r.j.items || []).slice().reverse();
		t.setAttribute("data-count", String(items.length));
		none.hidden = items.length > 0;
		rows(t, items, (a) => [a.workload, a.dim, fmtTime(a.start), fmtTime(a.end), a.score.toFixed(2)]);
	}

	/* The daemon's cgroups for its allocations ([linux] enforce_api; the
	 * enforce member of GET /v1/host): mode, how many, the last error. */
	function showEnforce(e) {
		const el = $("#enforce");
		if (!e)
			return;
		el.setAttribute("data-mode", e.mode);
		el.setAttribute("data-cgroups", String(e.cgroups));
		el.setAttribute("data-error", e.last_error || "");
		if (e.mode === "off") {
			el.textContent = "Enforcement: off (set [linux] enforce_api = on to give each allocation its cgroup).";
			return;
		}
		el.textContent = "Enforcement: " + e.mode + ", " + e.cgroups + " cgroup" + (e.cgroups === 1 ? "" : "s") +
			" under " + e.parent + "/" + (e.pending_removal ? " (" + e.pending_removal + " waiting for their tasks to leave)" : "") +
			"; " + e.limit_writes + " limit writes" + (e.mode === "dry-run" ? ", " + e.dry_run_writes + " not made (dry run)" : "") +
			(e.drift ? ", " + e.drift + " changed by hand" : "") + (e.orphans_removed ? ", " + e.orphans_removed + " orphans removed" : "") +
			(e.write_errors ? ", " + e.write_errors + " errors" : "") + "." + (e.last_error ? " Last error: " + e.last_error : "");
	}

	/* A shared ledger (the cluster member of GET /v1/host; null on SQLite):
	 * the watch that keeps this instance's view in step with the others. */
	function showCluster(cl) {
		const el = $("#cluster");
		el.hidden = !cl;
		if (!cl)
			return;
		el.setAttribute("data-watch", cl.watch_up ? "up" : "down");
		el.textContent = "Shared ledger (" + cl.ledger + "): watch " + (cl.watch_up ? "up" : "DOWN for " + cl.down_s + " s") +
			(cl.endpoint ? " on " + cl.endpoint : "") +
			", view at revision " + cl.view_revision + ", last catch-up " + cl.lag_ms + " ms; " + cl.reloads +
			" reloads for other instances' commits" + (cl.relists ? ", " + cl.relists + " full relists" : "") +
			(cl.restarts ? ", " + cl.restarts + " streams moved off a silent member" : "") + "." +
			(cl.error ? " Last error: " + cl.error : "");
	}

	/* Pools on nodes (the nodes and fragmentation members of GET /v1/host;
	 * empty off a fleet): each node with what is placed on it, and the
	 * capacity stranded where no queued request fits. */
	function showNodes(nodes, frag) {
		const box = $("#nodes-box");
		box.hidden = !(nodes && nodes.length);
		if (box.hidden)
			return;
		rows($("#nodes"), nodes, (n) => [n.name, (n.up ? "up" : "down") + (n.draining ? ", draining" : n.cordoned ? ", cordoned" : ""),
			String(n.allocations), Object.keys(n.capacity).filter((d) => n.capacity[d] || n.allocated[d])
				.map((d) => d + " " + fmt(d, n.allocated[d] || 0) + " / " + fmt(d, n.capacity[d])).join(", ")]);
		const pct = (x) => (100 * x).toFixed(1) + "%";
		$("#fragmentation").textContent = (frag || []).map((f) => "Pool " + f.pool + ": stranded " +
			Object.keys(f.stranded).map((d) => d + " " + pct(f.stranded[d])).join(", ") + "; in pieces below the median allocation " +
			Object.keys(f.small).map((d) => d + " " + pct(f.small[d])).join(", ") + ".").join(" ");
	}

	/* Observe mode on the daemon's host (GET /v1/host): the workloads it
	 * records are in the workload list (cg:PATH, host). */
	async function refreshHost() {
		const r = await api("/v1/host");
		const el = $("#host");
		if (r.status !== 200) {
			el.textContent = r.status === 403 ? "Not visible to this token." : "Not available from this daemon.";
			return;
		}
		const h = r.j;
		showEnforce(h.enforce);
		showCluster(h.cluster);
		showNodes(h.nodes, h.fragmentation);
		el.setAttribute("data-observing", h.observing ? "1" : "0");
		el.setAttribute("data-cgroups", String(h.cgroups));
		if (!h.observing) {
			el.textContent = "Not observing (add a [linux] section to the policy).";
			return;
		}
		el.textContent = "Observing " + h.cgroups + " cgroup" + (h.cgroups === 1 ? "" : "s") +
			(h.host ? " and the host" : "") + " every " + (h.interval_ms >= 1000 ? h.interval_ms / 1000 + " s" : h.interval_ms + " ms") +
			(h.globs.length ? " (" + h.globs.join(", ") + ")" : " (every top-level cgroup)") + "; " + h.records +
			" values recorded" + (h.errors ? ", " + h.errors + " failed rounds" : "") +
			(h.last_round ? "; last round " + fmtTime(h.last_round) : "") + ". Their workloads: cg:PATH and host.";
	}

	function drawEvents() {
		const dec = st.events.filter((e) => DECISIONS.has(e.kind)).slice(-SHOW_EVENTS).reverse();
		rows($("#decisions"), dec, (e) => [e.seq, fmtTime(e.time), e.kind, e.id ?? "", e.tenant || "", e.pool || "",
			e.kind === "refuse" ? (e.reason || "") + (e.detail ? ": " + e.detail : "") : fmtRes(e.resources)]);
		const rs = st.events.filter((e) => RESIZES.has(e.kind)).slice(-SHOW_EVENTS).reverse();
		rows($("#resizes"), rs, (e) => [e.seq, fmtTime(e.time), e.id ?? "", e.pool || "",
			e.resources ? fmtRes(e.resources) : (e.detail || "")]);
	}

	function addEvent(e) {
		if (st.events.length && e.seq <= st.events[st.events.length - 1].seq)
			return;
		st.events.push(e);
		if (st.events.length > 500)
			st.events.splice(0, st.events.length - 500);
	}

	async function loadEvents() {
		const head = await api("/v1/events?limit=1");
		if (head.status !== 200)
			return;
		const rev = parseInt(head.j.resourceVersion, 10) || 0;
		let r = await api("/v1/events?limit=1000&since=" + Math.max(0, rev - 200));
		if (r.status === 410)
			r = await api("/v1/events?limit=1000");
		if (r.status !== 200)
			return;
		st.events = [];
		for (const e of r.j.items || [])
			addEvent(e);
		st.rev = Math.max(rev, parseInt(r.j.resourceVersion, 10) || 0);
		drawEvents();
	}

	/* The SSE stream, read with fetch (the Authorization header). */
	async function watch() {
		for (let delay = 1000;;) {
			try {
				const ctl = new AbortController();
				st.stream = ctl;
				const r = await fetch("/v1/events?watch=1&since=" + st.rev,
					{headers: {Authorization: "Bearer " + token}, cache: "no-store", signal: ctl.signal});
				if (r.status === 401) {
					login("the token was refused");
					return;
				}
				if (r.status === 410) {
					await loadEvents();
					continue;
				}
				if (r.status !== 200 || !r.body)
					throw new Error("watch: " + r.status);
				setStatus("live", "live");
				delay = 1000;
				const rd = r.body.getReader(), dec = new TextDecoder();
				let buf = "";
				for (;;) {
					const {value, done} = await rd.read();
					if (done)
						break;
					buf += dec.decode(value, {stream: true});
					let i;
					while ((i = buf.indexOf("\n\n")) >= 0) {
						frame(buf.slice(0, i));
						buf = buf.slice(i + 2);
					}
				}
			} catch (e) {
				if (e instanceof Unauthorized)
					return;
			}
			setStatus("polling", "reconnecting");
			await new Promise((ok) => setTimeout(ok, delay));
			delay = Math.min(delay * 2, 30000);
		}
	}

	function frame(text) {
		let data = "", id = null;
		for (const line of text.split("\n")) {
			if (line.startsWith("data:"))
				data += line.slice(5).trim();
			else if (line.startsWith("id:"))
				id = parseInt(line.slice(3).trim(), 10);
		}
		if (id !== null && id > st.rev)
			st.rev = id;
		if (!data)
			return;
		let e;
		try {
			e = JSON.parse(data);
		} catch (x) {
			return;
		}
		addEvent(e);
		st.live++;
		document.body.setAttribute("data-live-events", String(st.live));
		drawEvents();
		soon("pools", refreshPools, 300);
		soon("queue", refreshQueue, 300);
		if (e.id !== null && e.id !== undefined)
			st.describes.delete(e.id);
		soon("workload", refreshWorkloads, 800);
	}

	const timers = {};
	function soon(key, fn, ms) {
		if (timers[key])
			return;
		timers[key] = setTimeout(() => {
			timers[key] = null;
			fn().catch(() => {});
		}, ms);
	}

	/* ---- workloads ---- */

	async function refreshAllocs() {
		const r = await api("/v1/allocations");
		if (r.status !== 200)
			return;
		st.allocs = r.j.items || [];
		const live = new Set(st.allocs.map((a) => a.id));
		for (const id of Array.from(st.describes.keys()))
			if (!live.has(id))
				st.describes.delete(id);
		for (const a of st.allocs.slice(-200)) {
			if (st.describes.has(a.id))
				continue;
			const d = await api("/v1/allocations/" + a.id);
			if (d.status === 200)
				st.describes.set(a.id, d.j);
		}
	}

	async function workloadNames() {
		if (st.workloadRoute !== false) {
			const r = await api("/v1/workloads");
			if (noRoute(r)) {
				st.workloadRoute = false;
			} else if (r.status === 200) {
				st.workloadRoute = true;
				return (r.j.items || []).map((w) => ({name: w.workload, dims: w.dims || []}));
			}
		}
		const names = new Map();
		for (const d of st.describes.values())
			if (d.workload && !names.has(d.workload))
				names.set(d.workload, {name: d.workload, dims: []});
		return Array.from(names.values()).sort((a, b) => a.name.localeCompare(b.name));
	}

	function poolDims() {
		const dims = new Set();
		for (const p of st.pools.values())
			for (const d in p.item.dimensions)
				dims.add(d);
		return Array.from(dims);
	}

	async function refreshWorkloads() {
		await refreshAllocs();
		const ws = await workloadNames();
		const sel = $("#workload");
		const cur = sel.value;
		sel.replaceChildren();
		if (!ws.length)
			sel.append(el("option", {value: ""}, "(none seen yet)"));
		for (const w of ws)
			sel.append(el("option", {value: w.name}, w.name));
		if (ws.some((w) => w.name === cur))
			sel.value = cur;
		const w = ws.find((x) => x.name === sel.value);
		const dsel = $("#workload-dim");
		const dcur = dsel.value;
		const dims = w && w.dims.length ? w.dims : poolDims();
		dsel.replaceChildren();
		for (const d of dims)
			dsel.append(el("option", {value: d}, d));
		if (dims.includes(dcur))
			dsel.value = dcur;
		await drawWorkload(w ? w.name : null, dsel.value || null);
	}

	async function drawWorkload(name, dim) {
		const dl = $("#workload-summary");
		const mode = [];
		if (!name || !dim) {
			summary(dl, "workload", [], "no workload seen yet");
			rows($("#workload-allocs"), [], () => []);
			return;
		}
		const h = await api("/v1/workloads/" + encodeURIComponent(name) + "/history?dim=" + encodeURIComponent(dim));
		const pts = h.status === 200 && h.j ? (h.j.points || []).slice(-2000) : [];
		if (h.status === 404)
			mode.push("no usage history for " + dim + " yet");
		let fc = [];
		if (st.forecastRoute !== false) {
			const f = await api("/v1/workloads/" + encodeURIComponent(name) + "/forecast?dim=" + encodeURIComponent(dim) +
				"&horizon=24");
			if (noRoute(f)) {
				st.forecastRoute = false;
			} else {
				st.forecastRoute = true;
				if (f.status === 200 && f.j)
					fc = f.j.points || [];
			}
		}
		if (st.forecastRoute === false)
			mode.push("this daemon has no workload forecast route: no band");

		/* its live allocations: reservation, predicted against what happened */
		const mine = [];
		for (const a of st.allocs) {
			const d = st.describes.get(a.id);
			if (d && d.workload === name)
				mine.push(d);
		}
		let reserved = 0, queued = 0, predicted = null, peak = null, last = null;
		for (const d of mine) {
			const r = d.resources && d.resources[dim] !== undefined ? d.resources[dim] : 0;
			if (d.state === "granted")
				reserved += r;
			else
				queued += r;
			if (d.predicted && d.predicted[dim] !== undefined)
				predicted = (predicted || 0) + d.predicted[dim];
			if (d.peak && d.peak[dim] !== undefined)
				peak = (peak || 0) + d.peak[dim];
			if (d.last_usage && d.last_usage[dim] !== undefined)
				last = (last || 0) + d.last_usage[dim];
		}
		rows($("#workload-allocs"), mine, (d) => [d.id, d.state, d.pool, fmtRes(d.resources),
			d.predicted && Object.keys(d.predicted).length ? fmtRes(d.predicted) : "not predicted",
			fmtRes(d.peak), fmtRes(d.last_usage)]);

		const xs = [], mean = [], max = [], resv = [], lo = [], hi = [], pt = [];
		for (const p of pts) {
			xs.push(secs(p.time));
			mean.push(p.mean ?? null), max.push(p.max ?? null), resv.push(null);
			lo.push(null), hi.push(null), pt.push(null);
		}
		const now = Date.now() / 1000;
		if (mine.length && (!xs.length || now > xs[xs.length - 1])) {
			xs.push(now);
			mean.push(null), max.push(null), resv.push(reserved), lo.push(null), hi.push(null), pt.push(null);
		}
		if (resv.length) /* the reservation as a level line over the window */
			for (let i = 0; i < resv.length; i++)
				resv[i] = mine.length ? reserved : null;
		for (const f of fc) {
			const t = secs(f.time);
			if (xs.length && t <= xs[xs.length - 1])
				continue;
			xs.push(t);
			mean.push(null), max.push(null), resv.push(mine.length ? reserved : null);
			lo.push(f.lower ?? null), hi.push(f.upper ?? null), pt.push(f.point ?? null);
		}
		const div = $("#workload-chart");
		if (!st.wchart || st.wchart.dim !== dim) {
			if (st.wchart)
				st.wchart.u.destroy();
			st.wchart = {dim: dim, u: makeChart(div, dim, [
				{label: "mean", stroke: "#2f855a", width: 2},
				{label: "max", stroke: "#9ae6b4", width: 1},
				{label: "reserved", stroke: "#2b6cb0", dash: [6, 4], width: 1.5, paths: STEP},
				{label: "band low", stroke: "rgba(221,107,32,0.5)", width: 1},
				{label: "band high", stroke: "rgba(221,107,32,0.5)", width: 1},
				{label: "forecast", stroke: "#dd6b20", dash: [4, 3], width: 1.5},
			], BAND)};
		}
		st.wchart.u.setData([xs, mean, max, resv, lo, hi, pt]);
		const lp = pts.length ? pts[pts.length - 1] : null;
		const f0 = fc.length ? fc[0] : null;
		summary(dl, "workload-" + name + "-" + dim, [
			["mean", "mean (latest)", lp ? lp.mean : null, dim],
			["max", "max (latest)", lp ? lp.max : null, dim],
			["reserved", "reserved", reserved, dim],
			["queued", "queued", queued || null, dim],
			["predicted", "predicted", predicted, dim],
			["peak", "peak", peak, dim],
			["last", "last reported", last, dim],
			["band_lower", "band low", f0 ? f0.lower : null, dim],
			["forecast", "forecast", f0 ? f0.point : null, dim],
			["band_upper", "band high", f0 ? f0.upper : null, dim],
		], mine.length ? null : "no live allocation of this workload");
		$("#workload-mode").textContent = (st.workloadRoute ? "Workloads from GET /v1/workloads. " :
			"Workloads seen in the live allocations (this daemon has no GET /v1/workloads). ") + mode.join("; ");
	}

	/* ---- the token ---- */

	function login(msg) {
		sessionStorage.removeItem(TOKEN_KEY);
		token = null;
		if (st.stream)
			st.stream.abort();
		$("#main").hidden = true;
		$("#logout").hidden = true;
		$("#login").hidden = false;
		if (msg)
			$("#login-msg").textContent = msg;
		setStatus("login", "no token");
	}

	function takeToken() {
		const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
		if (m) {
			sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
			/* out of the address bar and the history */
			history.replaceState(null, "", location.pathname);
		}
		token = sessionStorage.getItem(TOKEN_KEY);
	}

	/* ---- start ---- */

	async function start() {
		$("#login").hidden = true;
		$("#main").hidden = false;
		$("#logout").hidden = false;
		setStatus("loading", "loading");
		try {
			await refreshPools();
			await Promise.all([refreshQueue(), loadEvents(), refreshAnomalies(), refreshHost()]);
			await refreshWorkloads();
			document.body.setAttribute("data-ready", "1");
		} catch (e) {
			if (e instanceof Unauthorized)
				return;
			setStatus("error", "error: " + e.message);
		}
		watch();
		setInterval(() => {
			if (token)
				refreshPools().catch(() => {});
		}, st.poolHistory ? REFRESH_MS : SAMPLE_MS);
		setInterval(() => {
			if (token)
				refreshQueue().catch(() => {});
		}, REFRESH_MS);
		setInterval(() => {
			if (token)
				refreshAnomalies().catch(() => {});
		}, 30 * REFRESH_MS);
		setInterval(() => {
			if (token)
				refreshHost().catch(() => {});
		}, 5 * REFRESH_MS);
	}

	document.addEventListener("DOMContentLoaded", () => {
		$("#login").addEventListener("submit", (ev) => {
			ev.preventDefault();
			const v = $("#token").value.trim();
			if (!v)
				return;
			sessionStorage.setItem(TOKEN_KEY, v);
			$("#token").value = "";
			location.reload();
		});
		$("#logout").addEventListener("click", () => login("token forgotten"));
		$("#workload").addEventListener("change", () => refreshWorkloads().catch(() => {}));
		$("#workload-dim").addEventListener("change", () => refreshWorkloads().catch(() => {}));
		takeToken();
		if (token)
			start();
		else
			login(null);
	});
})();
