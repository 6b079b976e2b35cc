// The search page: the URL's query string is the state, and uses the API's parameter names
// (q, topic, provider, kind, since, until, sort, limit, offset), so the page's URL and the
// request it sends to `search` carry the same query string. Only the API's `highlights`
// become HTML, and only their <mark> elements survive; every other string is textContent.
"use strict";

(() => {
  const DEFAULT_LIMIT = 10;
  const FACETS = ["topic", "provider"];
  const byId = (id) => document.getElementById(id);
  const el = {
    form: byId("search-form"), q: byId("q"), since: byId("since"), until: byId("until"),
    clearDates: byId("clear-dates"), sort: byId("sort"), main: byId("main"),
    summary: byId("summary"), error: byId("error"), hits: byId("hits"),
    suggestion: byId("suggestion"), suggestionLink: byId("suggestion-link"),
    pager: byId("pager"), prev: byId("prev"), next: byId("next"), pageInfo: byId("page-info"),
  };
  // What the server reinterpreted to run the query (lenient parsing): one line each, above
  // the results. Made here rather than in the page shell so that the shell stays as it is.
  el.notices = document.createElement("div");
  el.notices.id = "notices";
  el.notices.hidden = true;
  el.summary.before(el.notices);
  const FULL_DATE = /^\d{4}-\d{2}-\d{2}$/;
  const dateFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", timeZone: "UTC",
  });

  // -- state <-> query string ---------------------------------------------------------------

  function readState(search) {
    const p = new URLSearchParams(search);
    const limit = Number.parseInt(p.get("limit") || "", 10);
    const offset = Number.parseInt(p.get("offset") || "", 10);
    return {
      q: p.get("q") || "",
      topic: p.getAll("topic").filter(Boolean),
      provider: p.getAll("provider").filter(Boolean),
      kind: p.get("kind") || "",
      since: p.get("since") || "",
      until: p.get("until") || "",
      sort: p.get("sort") || "relevance",
      limit: Number.isFinite(limit) ? limit : DEFAULT_LIMIT,
      offset: Number.isFinite(offset) ? offset : 0,
    };
  }

  function toQuery(state) {
    const p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    for (const name of FACETS) for (const value of state[name]) p.append(name, value);
    for (const name of ["kind", "since", "until"]) if (state[name]) p.set(name, state[name]);
    if (state.sort !== "relevance") p.set("sort", state.sort);
    if (state.limit !== DEFAULT_LIMIT) p.set("limit", String(state.limit));
    if (state.offset > 0) p.set("offset", String(state.offset));
    return p.toString();
  }

  let state = readState(location.search);
  let inFlight = null;

  // Apply `changes`, add a history entry and load. Any change but paging starts at page 1.
  function navigate(changes, { keepOffset = false } = {}) {
    const next = { ...state, ...changes };
    if (!keepOffset) next.offset = 0;
    const query = toQuery(next);
    if (query === toQuery(state)) return;
    state = next;
    history.pushState(null, "", query ? `?${query}` : location.pathname);
    load();
  }

  window.addEventListener("popstate", () => {
    state = readState(location.search);
    load();
  });

  // -- loading ------------------------------------------------------------------------------

  async function load() {
    syncControls();
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    el.main.setAttribute("aria-busy", "true");
    const query = toQuery(state);
    try {
      const response = await fetch(`search${query ? `?${query}` : ""}`, {
        headers: { Accept: "application/json" }, signal: controller.signal,
      });
      const data = await response.json();
      if (response.ok) render(data);
      else showError(data.error ? data.error.message : `The server answered ${response.status}.`);
    } catch (error) {
      if (error.name === "AbortError") return;
      showError("The search service cannot be reached.");
    } finally {
      if (inFlight === controller) el.main.setAttribute("aria-busy", "false");
    }
  }

  function syncControls() {
    el.q.value = state.q;
    el.sort.value = state.sort;
    el.since.value = FULL_DATE.test(state.since) ? state.since : "";
    el.until.value = FULL_DATE.test(state.until) ? state.until : "";
    el.clearDates.hidden = !(state.since || state.until);
    document.title = state.q ? `${state.q} - Search` : "Search";
  }

  // -- rendering ----------------------------------------------------------------------------

  function render(data) {
    el.error.hidden = true;
    renderNotices(data.notices || []);
    renderSummary(data);
    renderSuggestion(data.suggestion);
    el.hits.replaceChildren(...data.hits.map(renderHit));
    el.hits.start = data.offset + 1;
    for (const name of FACETS) renderFacet(name, data.facets[name]);
    renderPager(data);
  }

  function renderSummary(data) {
    const { total, offset, hits } = data;
    let text;
    if (total === 0) text = state.q ? `No results for “${state.q}”.` : "No results.";
    else if (hits.length === 0) text = `No results on this page (${count(total)} in all).`;
    else {
      const shown = `${offset + 1}–${offset + hits.length}`;
      text = `${count(total)} · showing ${shown} · ${data.took_ms.toFixed(1)} ms`;
    }
    el.summary.textContent = text;
  }

  function count(total) {
    return `${total.toLocaleString()} result${total === 1 ? "" : "s"}`;
  }

  function renderNotices(notices) {
    el.notices.replaceChildren(...notices.map(({ code, message }) => {
      const line = document.createElement("p");
      line.className = "summary notice";
      line.dataset.code = code;
      line.textContent = message;
      return line;
    }));
    el.notices.hidden = notices.length === 0;
  }

  function renderSuggestion(suggestion) {
    el.suggestion.hidden = !suggestion;
    if (!suggestion) return;
    el.suggestionLink.textContent = suggestion;
    el.suggestionLink.href = `?${toQuery({ ...state, q: suggestion, offset: 0 })}`;
  }

  function renderHit(hit) {
    const item = document.createElement("li");
    item.className = "hit";
    item.dataset.id = hit.id;

    const title = document.createElement("h3");
    title.className = "hit-title";
    const href = safeUrl(hit.url);
    const link = document.createElement(href ? "a" : "span");
    if (href) {
      link.href = href;
      link.rel = "noopener noreferrer";
    }
    appendMarked(link, hit.highlights.title, hit.title);
    title.append(link);

    const meta = document.createElement("p");
    meta.className = "hit-meta";
    const parts = [];
    if (hit.provider) parts.push(span("provider", hit.provider));
    if (hit.published) {
      const time = document.createElement("time");
      time.dateTime = hit.published;
      time.textContent = dateFormat.format(new Date(hit.published));
      parts.push(time);
    }
    if (hit.kind !== "article") parts.push(span("kind", hit.kind));
    parts.forEach((part, i) => meta.append(...(i ? [" · ", part] : [part])));
    for (const topic of hit.topics) meta.append(" ", span("topic", topic));

    item.append(title, meta);
    if (hit.excerpt) {
      const excerpt = document.createElement("p");
      excerpt.className = "hit-excerpt";
      appendMarked(excerpt, hit.highlights.excerpt, hit.excerpt);
      item.append(excerpt);
    }
    return item;
  }

  function span(className, text) {
    const node = document.createElement("span");
    node.className = className;
    node.textContent = text;
    return node;
  }

  // Append a highlight ("text with <mark>words</mark>", all else HTML-escaped by the API) as
  // text nodes and fresh <mark> elements. The markup is parsed in an inert <template> (no
  // scripts run, nothing loads), and anything but <mark> is kept as its text only.
  function appendMarked(parent, marked, plain) {
    if (typeof marked !== "string") {
      parent.textContent = plain;
      return;
    }
    const template = document.createElement("template");
    template.innerHTML = marked;
    for (const node of template.content.childNodes) {
      if (node.nodeName === "MARK") {
        const mark = document.createElement("mark");
        mark.textContent = node.textContent;
        parent.append(mark);
      } else {
        parent.append(document.createTextNode(node.textContent));
      }
    }
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function renderFacet(name, facet) {
    const section = byId(`facet-${name}`);
    const values = facet ? facet.values : [];
    section.hidden = values.length === 0;
    const list = section.querySelector(".facet-values");
    list.replaceChildren(...values.map((value) => facetItem(name, value)));
    if (facet && facet.truncated) {
      const more = document.createElement("li");
      more.className = "more";
      more.textContent = "…";
      list.append(more);
    }
  }

  function facetItem(name, { value, count: n, selected }) {
    const item = document.createElement("li");
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = name;
    box.value = value;
    box.checked = selected || state[name].includes(value);
    box.addEventListener("change", () => {
      const chosen = state[name].filter((v) => v !== value);
      if (box.checked) chosen.push(value);
      navigate({ [name]: chosen });
    });
    label.append(box, " ", span("value", value), " ", span("count", String(n)));
    item.append(label);
    return item;
  }

  function renderPager({ total, offset, limit }) {
    const pages = limit > 0 ? Math.ceil(total / limit) : 0;
    el.pager.hidden = pages <= 1 && offset === 0;
    el.prev.disabled = offset === 0;
    el.next.disabled = limit === 0 || offset + limit >= total;
    el.pageInfo.textContent = limit > 0 ? `Page ${Math.floor(offset / limit) + 1} of ${pages}` : "";
  }

  function showError(message) {
    el.error.textContent = message;
    el.error.hidden = false;
    el.summary.textContent = "";
    renderNotices([]);
    el.hits.replaceChildren();
    el.pager.hidden = true;
    el.suggestion.hidden = true;
  }

  // -- controls -----------------------------------------------------------------------------

  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate({ q: el.q.value.trim() });
  });
  el.sort.addEventListener("change", () => navigate({ sort: el.sort.value }));
  el.since.addEventListener("change", () => navigate({ since: el.since.value }));
  el.until.addEventListener("change", () => navigate({ until: el.until.value }));
  el.clearDates.addEventListener("click", () => navigate({ since: "", until: "" }));
  el.suggestionLink.addEventListener("click", (event) => {
    event.preventDefault();
    navigate({ q: el.suggestionLink.textContent });
  });
  const page = (step) => () => {
    const offset = Math.max(0, state.offset + step * state.limit);
    navigate({ offset }, { keepOffset: true });
    window.scrollTo(0, 0);
  };
  el.prev.addEventListener("click", page(-1));
  el.next.addEventListener("click", page(1));

  load();
})();
