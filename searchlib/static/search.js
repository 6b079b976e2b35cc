// The search page: the URL's query string is the state, and uses the API's parameter names
// (q, topic, provider, kind, since, until, sort, limit, offset), so the page's URL and the
// request it sends to `search` carry the same query string. Only the API's `highlights`
// become HTML, and only their <mark> elements survive; every other string is textContent.
// A facet's "Show more" and its filter box load all its values from `facets/{name}` with the
// same query string; which facets are open is page state, not part of the URL.
"use strict";

(() => {
  const DEFAULT_LIMIT = 10;
  const FACETS = ["kind", "topic", "provider"];
  const MULTI = ["topic", "provider"]; // repeatable parameters; `kind` takes one value
  const KIND_LABELS = { article: "Articles", related: "Related coverage" };
  const byId = (id) => document.getElementById(id);
  const el = {
    form: byId("search-form"), q: byId("q"), since: byId("since"), until: byId("until"),
    clearDates: byId("clear-dates"), sort: byId("sort"), main: byId("main"),
    summary: byId("summary"), error: byId("error"), hits: byId("hits"),
    suggestion: byId("suggestion"), suggestionLink: byId("suggestion-link"),
    pager: byId("pager"), prev: byId("prev"), next: byId("next"), pageInfo: byId("page-info"),
    busy: byId("busy"), filters: byId("filters"), filtersToggle: byId("filters-toggle"),
    filtersActive: byId("filters-active"), filtersDone: byId("filters-done"),
  };
  // Messages about the results (relaxed query, emptying filters, added words), between the
  // summary and the hits; made here so that the page shell needs no change.
  el.messages = document.createElement("div");
  el.messages.id = "messages";
  el.messages.className = "messages";
  el.summary.after(el.messages);
  const phone = window.matchMedia("(max-width: 44rem)");
  // What the server reinterpreted to run the query (lenient parsing): one line each, above
  // the results. Made here rather than in the page shell so that the shell stays as it is.
  el.notices = document.createElement("div");
  el.notices.id = "notices";
  el.notices.hidden = true;
  el.summary.before(el.notices);
  // "One result per story" (collapse=story), under the sort order; made here so that the
  // page shell stays as it is.
  el.collapse = document.createElement("input");
  el.collapse.type = "checkbox";
  el.collapse.id = "collapse";
  const collapseLabel = document.createElement("label");
  collapseLabel.className = "collapse";
  collapseLabel.append(el.collapse, " One result per story");
  el.sort.after(collapseLabel);
  // "Favour recent" (freshness): a decay on age from the newest document, which on a live
  // index is about now and on an archive is its last day.
  el.freshness = document.createElement("select");
  el.freshness.id = "freshness";
  for (const [value, text] of [["", "Off"], ["1d", "Past day"], ["7d", "Past week"],
    ["30d", "Past month"]]) el.freshness.add(new Option(text, value));
  const freshnessLabel = document.createElement("label");
  freshnessLabel.className = "freshness";
  freshnessLabel.append("Favour recent ", el.freshness);
  collapseLabel.after(freshnessLabel);
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
      collapse: p.get("collapse") === "story" ? "story" : "",
      freshness: p.get("freshness") || "",
      freshness_from: p.get("freshness_from") || "",
      limit: Number.isFinite(limit) ? limit : DEFAULT_LIMIT,
      offset: Number.isFinite(offset) ? offset : 0,
    };
  }

  function toQuery(state) {
    const p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    for (const name of MULTI) for (const value of state[name]) p.append(name, value);
    for (const name of ["kind", "since", "until"]) if (state[name]) p.set(name, state[name]);
    if (state.sort !== "relevance") p.set("sort", state.sort);
    if (state.collapse) p.set("collapse", state.collapse);
    if (state.freshness) p.set("freshness", state.freshness);
    if (state.freshness && state.freshness_from) p.set("freshness_from", state.freshness_from);
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
    setBusy(true);
    const query = toQuery(state);
    // Facets showing all their values need them again for the new state: ask at once.
    const open = startFacetLoads(controller.signal);
    try {
      // The timeline is asked of the API only: it is not part of the page's state.
      const response = await fetch(`search?${query ? `${query}&` : ""}timeline=auto`, {
        headers: { Accept: "application/json" }, signal: controller.signal,
      });
      const data = await response.json();
      if (response.ok) {
        const lists = await Promise.all(open.map(([, values]) => values));
        if (controller.signal.aborted) return; // a newer search owns the page now
        open.forEach(([name], i) => setAllValues(name, lists[i]));
        render(data);
      } else showError(data.error ? data.error.message : `The server answered ${response.status}.`);
    } catch (error) {
      if (error.name === "AbortError") return;
      showError("The search service cannot be reached.");
    } finally {
      if (inFlight === controller) setBusy(false);
    }
  }

  // The results area says it is busy (aria-busy, for assistive technology) and a bar under
  // the search box moves (placed over the page's edge, so nothing else moves).
  function setBusy(busy) {
    el.main.setAttribute("aria-busy", String(busy));
    el.busy.hidden = !busy;
  }

  function syncControls() {
    el.q.value = state.q;
    el.sort.value = state.sort;
    el.collapse.checked = state.collapse === "story";
    // A value from a shared URL that the menu does not list is shown as its own entry.
    if (state.freshness && ![...el.freshness.options].some((o) => o.value === state.freshness)) {
      el.freshness.add(new Option(state.freshness, state.freshness));
    }
    el.freshness.value = state.freshness;
    el.freshness.disabled = state.sort !== "relevance"; // freshness re-ranks by relevance only
    el.since.value = FULL_DATE.test(state.since) ? state.since : "";
    el.until.value = FULL_DATE.test(state.until) ? state.until : "";
    el.clearDates.hidden = !(state.since || state.until);
    document.title = state.q ? `${state.q} - Search` : "Search";
    const active = state.topic.length + state.provider.length + (state.kind ? 1 : 0)
      + (state.since || state.until ? 1 : 0);
    el.filtersActive.textContent = active ? String(active) : "";
    el.filtersActive.hidden = active === 0;
  }

  // -- rendering ----------------------------------------------------------------------------

  function render(data) {
    el.error.hidden = true;
    renderNotices(data.notices || []);
    renderSummary(data);
    renderSuggestion(data.suggestion);
    renderMessages(data);
    el.hits.replaceChildren(...data.hits.map(renderHit));
    el.hits.start = data.offset + 1;
    renderFacets(data);
    renderTimeline(data.facets.published);
    // Collapsed, pages count stories.
    renderPager({ ...data, total: data.total_stories ?? data.total });
  }

  function renderSummary(data) {
    const { total, offset, hits } = data;
    let text;
    if (total === 0) text = state.q ? `No results for “${state.q}”.` : "No results.";
    else if (hits.length === 0) text = `No results on this page (${count(total)} in all).`;
    else {
      const shown = `${offset + 1}–${offset + hits.length}`;
      const stories = data.total_stories === undefined ? ""
        : ` in ${data.total_stories.toLocaleString()} ${data.total_stories === 1 ? "story" : "stories"}`;
      text = `${count(total)}${stories} · showing ${shown} · ${data.took_ms.toFixed(1)} ms`;
    }
    el.summary.textContent = text;
  }

  function count(total) {
    return `${total.toLocaleString()} result${total === 1 ? "" : "s"}`;
  }

  // The same sentences as the `search` command prints.
  function renderMessages(data) {
    const messages = [];
    if (data.relaxed) {
      let text = "No results with every word; showing results with any.";
      if (data.missing.length) text += ` Missing: ${data.missing.join(", ")}`;
      messages.push(message("relaxed", text));
    }
    if (data.empty_filters) messages.push(emptyFiltersMessage(data.empty_filters));
    if (data.feedback.length) {
      const words = data.feedback.slice(0, 10).join(", ");
      messages.push(message("feedback", `Also searched for: ${words}`));
    }
    const synonyms = Object.entries(data.synonyms || {});
    if (synonyms.length) {
      const parts = synonyms.map(([word, found]) => `${word} = ${found.join(", ")}`);
      messages.push(message("synonyms", `Synonyms: ${parts.join("; ")}`));
    }
    el.messages.replaceChildren(...messages);
  }

  function message(className, text) {
    const node = document.createElement("p");
    node.className = `message ${className}`;
    node.textContent = text;
    return node;
  }

  // "No results with provider “x”; without that filter: 67 results." and a button that
  // removes that filter (or those filters).
  function emptyFiltersMessage({ filters, total_without: without }) {
    const named = filters.map(filterText);
    const which = filters.length === 1 ? "that filter" : "these filters";
    const node = message(
      "empty-filters",
      `No results with ${listed(named, "and")}; without ${which}: ${count(without)}. `,
    );
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = filters.length === 1 ? "Remove that filter" : "Remove these filters";
    button.addEventListener("click", () => {
      const changes = {};
      for (const name of filters) {
        if (name === "date") Object.assign(changes, { since: "", until: "" });
        else changes[name] = Array.isArray(state[name]) ? [] : "";
      }
      navigate(changes);
    });
    node.append(button);
    return node;
  }

  function filterText(name) {
    const quoted = (value) => `“${value}”`;
    if (name === "date") {
      const { since, until } = state;
      if (since && until) return `dates from ${since} to ${until}`;
      return since ? `dates from ${since}` : `dates up to ${until}`;
    }
    const values = [state[name]].flat().filter(Boolean);
    return values.length ? `${name} ${listed(values.map(quoted), "or")}` : `the ${name} filter`;
  }

  function listed(items, word) {
    if (items.length < 2) return items.join("");
    return `${items.slice(0, -1).join(", ")} ${word} ${items[items.length - 1]}`;
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
    if (hit.coverage && hit.coverage.documents > 1) item.append(renderCoverage(hit.coverage));
    return item;
  }

  // "Story: 3 results from 2 providers · also Provider: Title, ..." under a collapsed hit.
  function renderCoverage({ documents, providers, top }) {
    const line = document.createElement("p");
    line.className = "hit-coverage";
    line.append(`Story: ${count(documents)} from ${providers.toLocaleString()} `
      + `provider${providers === 1 ? "" : "s"}`);
    top.forEach((other, i) => {
      line.append(i ? ", " : " · also ", other.provider ? `${other.provider}: ` : "");
      const href = safeUrl(other.url);
      const link = document.createElement(href ? "a" : "span");
      if (href) {
        link.href = href;
        link.rel = "noopener noreferrer";
      }
      link.textContent = other.title;
      line.append(link);
    });
    const more = documents - 1 - top.length;
    if (more > 0) line.append(`, ${more.toLocaleString()} more`);
    return line;
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

  // -- facets -------------------------------------------------------------------------------

  // Per facet: the values the search returned (`top`), every value once loaded (`all`), and
  // whether the user asked for all of them (`expanded`) or typed in its filter box (`filter`).
  const facets = Object.fromEntries(FACETS.map((name) => [name, {
    top: [], truncated: false, all: null, expanded: false, filter: "", pending: null,
    section: byId(`facet-${name}`),
  }]));
  for (const name of FACETS) {
    const facet = facets[name];
    facet.list = facet.section.querySelector(".facet-values");
    facet.more = facet.section.querySelector(".facet-more");
    facet.box = facet.section.querySelector(".facet-filter input");
    facet.empty = facet.section.querySelector(".facet-empty");
  }

  function selectedValues(name) {
    return name === "kind" ? (state.kind ? [state.kind] : []) : state[name];
  }

  async function fetchFacet(name, signal) {
    const query = toQuery({ ...state, limit: DEFAULT_LIMIT, offset: 0 });
    const response = await fetch(`facets/${name}${query ? `?${query}` : ""}`, {
      headers: { Accept: "application/json" }, signal,
    });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error ? data.error.message : String(response.status));
    return data.values;
  }

  // On a new search: drop every facet's loaded values, and fetch them again for the facets
  // that show them all. A failed load falls back to the search's own values.
  function startFacetLoads(signal) {
    const loads = [];
    for (const name of FACETS) {
      const facet = facets[name];
      facet.pending?.abort();
      facet.pending = null;
      facet.all = null;
      if (facet.expanded || facet.filter) {
        loads.push([name, fetchFacet(name, signal).catch(() => null)]);
      }
    }
    return loads;
  }

  // Every value of a facet, or null when they could not be loaded: then the facet shows the
  // search's own values, and "Show more" again.
  function setAllValues(name, values) {
    facets[name].all = values;
    if (values === null) facets[name].expanded = false;
  }

  // Load every value of one facet now ("Show more", or typing in its filter box).
  async function loadAll(name) {
    const facet = facets[name];
    if (facet.all || facet.pending) return;
    const controller = new AbortController();
    facet.pending = controller;
    facet.section.setAttribute("aria-busy", "true");
    try {
      setAllValues(name, await fetchFacet(name, controller.signal));
    } catch (error) {
      if (error.name === "AbortError") return;
      setAllValues(name, null);
    } finally {
      if (facet.pending === controller) {
        facet.pending = null;
        facet.section.removeAttribute("aria-busy");
      }
    }
    renderFacet(name);
  }

  function renderFacets(data) {
    for (const name of FACETS) {
      const facet = facets[name];
      facet.top = data.facets[name] ? data.facets[name].values : [];
      facet.truncated = Boolean(data.facets[name] && data.facets[name].truncated);
      renderFacet(name);
    }
    el.filtersDone.textContent = `Show ${count(data.total)}`;
  }

  // -- timeline -----------------------------------------------------------------------------

  // A bar chart of the matches by day, week or month, above the date inputs (made here so
  // that the page shell stays as it is). Its counts ignore the date filter, like a facet's
  // own filter; a bar is a button that sets the date filter to its days.
  el.timeline = document.createElement("div");
  el.timeline.id = "timeline";
  el.timeline.className = "timeline";
  el.timeline.setAttribute("role", "group");
  el.timeline.hidden = true;
  el.since.closest("section").querySelector("h2").after(el.timeline);

  function renderTimeline(facet) {
    const buckets = facet ? facet.values : [];
    el.timeline.hidden = buckets.length === 0;
    if (!buckets.length) return el.timeline.replaceChildren();
    el.timeline.setAttribute("aria-label", `Matches by ${facet.interval}`);
    const most = Math.max(...buckets.map((bucket) => bucket.count), 1);
    el.timeline.replaceChildren(...buckets.map((bucket) => {
      const bar = document.createElement("button");
      bar.type = "button";
      bar.className = "bar";
      bar.dataset.since = bucket.since;
      bar.dataset.until = bucket.until;
      const days = bucket.since === bucket.until ? bucket.since : `${bucket.since} to ${bucket.until}`;
      bar.title = `${days}: ${count(bucket.count)}`;
      bar.setAttribute("aria-label", bar.title);
      bar.setAttribute("aria-pressed", String(bucket.selected));
      bar.disabled = bucket.count === 0;
      const fill = document.createElement("span");
      fill.className = "fill";
      // At least a sliver for any bucket with matches, so that it can be seen and clicked.
      fill.style.height = `${bucket.count ? Math.max(4, (100 * bucket.count) / most) : 0}%`;
      bar.append(fill);
      bar.addEventListener("click", () => navigate({ since: bucket.since, until: bucket.until }));
      return bar;
    }));
  }

  // Accent- and case-insensitive "contains", for the filter box.
  const fold = (text) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

  function renderFacet(name) {
    const facet = facets[name];
    let values = facet.top;
    if (facet.filter) {
      const wanted = fold(facet.filter);
      values = (facet.all || facet.top).filter(({ value }) => fold(value).includes(wanted));
    } else if (facet.expanded && facet.all) {
      values = facet.all;
    }
    const long = facet.truncated || (facet.all !== null && facet.all.length > facet.top.length);
    facet.section.hidden = facet.top.length === 0 && !facet.filter;
    facet.section.classList.toggle("expanded", values.length > DEFAULT_LIMIT);

    // Re-rendering replaces the checkboxes: keep the keyboard focus on the same value.
    const focused = facet.list.contains(document.activeElement) ? document.activeElement.value : null;
    facet.list.replaceChildren(...values.map((value) => facetItem(name, value)));
    if (focused !== null) {
      const again = [...facet.list.querySelectorAll("input")].find((box) => box.value === focused);
      const boxShown = facet.box && !facet.box.parentElement.hidden;
      (again || facet.list.querySelector("input") || (boxShown ? facet.box : el.filters))
        .focus();
    }

    if (facet.box) {
      facet.box.parentElement.hidden = !(long || facet.filter);
      if (facet.box.value.trim() !== facet.filter) facet.box.value = facet.filter;
    }
    if (facet.empty) {
      facet.empty.hidden = !(facet.filter && values.length === 0 && !facet.pending);
      facet.empty.textContent = `No ${name} matches “${facet.filter}”.`;
    }
    if (facet.more) {
      facet.more.hidden = !facet.truncated || Boolean(facet.filter);
      facet.more.textContent = facet.expanded ? "Show fewer" : "Show more";
      facet.more.setAttribute("aria-expanded", String(facet.expanded));
    }
  }

  function facetItem(name, { value, count: n, selected }) {
    const item = document.createElement("li");
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = name;
    box.value = value;
    box.checked = selected || selectedValues(name).includes(value);
    box.addEventListener("change", () => {
      if (name === "kind") {
        // One kind is a filter; both kinds are no filter at all.
        navigate({ kind: box.checked && !state.kind ? value : "" });
        return;
      }
      // The URL may hold the value in another case or spelling ("reuters" for "Reuters").
      const chosen = state[name].filter((v) => foldKey(v) !== foldKey(value));
      if (box.checked) chosen.push(value);
      navigate({ [name]: chosen });
    });
    const text = name === "kind" ? KIND_LABELS[value] || value : value;
    label.append(box, " ", span("value", text), " ", span("count", n.toLocaleString()));
    item.append(label);
    return item;
  }

  // As the server matches filter values: case, accents and spacing ignored (an
  // approximation of Python's casefold, enough to untick a value).
  function foldKey(value) {
    return value.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase()
      .replace(/ß/g, "ss").split(/\s+/).filter(Boolean).join(" ");
  }

  for (const name of FACETS) {
    const facet = facets[name];
    facet.more?.addEventListener("click", () => {
      facet.expanded = !facet.expanded;
      if (facet.expanded && !facet.all) loadAll(name);
      renderFacet(name);
    });
    facet.box?.addEventListener("input", () => {
      facet.filter = facet.box.value.trim();
      if (facet.filter && !facet.all) loadAll(name);
      renderFacet(name);
    });
    facet.box?.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && facet.box.value) {
        event.preventDefault();
        event.stopPropagation();
        facet.box.value = "";
        facet.filter = "";
        renderFacet(name);
      } else if (event.key === "ArrowDown") {
        const first = facet.list.querySelector("input");
        if (first) {
          event.preventDefault();
          first.focus();
        }
      }
    });
  }

  // -- the filters panel on narrow screens --------------------------------------------------

  function setFiltersOpen(open, { focusToggle = false } = {}) {
    el.filters.classList.toggle("open", open);
    el.filtersToggle.setAttribute("aria-expanded", String(open));
    if (focusToggle) el.filtersToggle.focus();
  }

  el.filtersToggle.addEventListener("click", () => {
    setFiltersOpen(el.filtersToggle.getAttribute("aria-expanded") !== "true");
  });
  el.filtersDone.addEventListener("click", () => setFiltersOpen(false, { focusToggle: true }));
  el.filters.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && phone.matches && el.filters.classList.contains("open")) {
      setFiltersOpen(false, { focusToggle: true });
    }
  });

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
    el.messages.replaceChildren();
    renderNotices([]);
    el.hits.replaceChildren();
    el.pager.hidden = true;
    el.suggestion.hidden = true;
  }

  // -- controls -----------------------------------------------------------------------------

  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    typeahead.close();
    navigate({ q: el.q.value.trim() });
  });
  el.sort.addEventListener("change", () => navigate(el.sort.value === "relevance"
    ? { sort: el.sort.value } : { sort: el.sort.value, freshness: "", freshness_from: "" }));
  el.freshness.addEventListener("change", () => navigate({
    freshness: el.freshness.value, freshness_from: el.freshness.value ? "newest" : "",
  }));
  el.collapse.addEventListener("change", () => navigate({ collapse: el.collapse.checked ? "story" : "" }));
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

  // -- type-ahead ---------------------------------------------------------------------------

  // Completions from `suggest` under the search box, as an ARIA combobox: the box keeps the
  // focus, arrows move through the list (aria-activedescendant), Enter or a click searches
  // the completion, Escape closes the list. A request leaves only once typing has paused
  // for TYPEAHEAD_DELAY ms, and an older answer never replaces a newer one.
  const TYPEAHEAD_DELAY = 150;
  const typeahead = (() => {
    const combo = document.createElement("div");
    combo.className = "combo";
    el.q.before(combo);
    combo.append(el.q);
    const list = document.createElement("ul");
    list.id = "typeahead";
    list.className = "typeahead";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    combo.append(list);
    el.q.setAttribute("role", "combobox");
    el.q.setAttribute("aria-autocomplete", "list");
    el.q.setAttribute("aria-controls", list.id);
    el.q.setAttribute("aria-expanded", "false");
    let timer = 0;
    let request = null;
    let active = -1;

    function options() {
      return [...list.children];
    }

    function close() {
      clearTimeout(timer);
      request?.abort();
      request = null;
      list.hidden = true;
      list.replaceChildren();
      active = -1;
      el.q.setAttribute("aria-expanded", "false");
      el.q.removeAttribute("aria-activedescendant");
    }

    function show(suggestions) {
      list.replaceChildren(...suggestions.map(({ text }, i) => {
        const item = document.createElement("li");
        item.id = `typeahead-${i}`;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = text;
        return item;
      }));
      active = -1;
      el.q.removeAttribute("aria-activedescendant");
      list.hidden = suggestions.length === 0;
      el.q.setAttribute("aria-expanded", String(suggestions.length > 0));
    }

    function highlight(index) {
      const items = options();
      if (!items.length) return;
      active = (index + items.length) % items.length;
      items.forEach((item, i) => item.setAttribute("aria-selected", String(i === active)));
      el.q.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function choose(text) {
      close();
      el.q.value = text;
      navigate({ q: text });
    }

    async function fetchSuggestions(text) {
      request?.abort();
      const controller = new AbortController();
      request = controller;
      try {
        const query = new URLSearchParams({ q: text, limit: "8" });
        const response = await fetch(`suggest?${query}`, {
          headers: { Accept: "application/json" }, signal: controller.signal,
        });
        if (!response.ok) return;
        const data = await response.json();
        // Typing went on, or the box lost the focus, while the answer was on its way.
        if (request !== controller || el.q.value !== text || document.activeElement !== el.q) {
          return;
        }
        show(data.suggestions);
      } catch (error) {
        if (error.name !== "AbortError") close(); // suggestions are a help: fail quietly
      }
    }

    el.q.addEventListener("input", () => {
      clearTimeout(timer);
      request?.abort();
      const text = el.q.value;
      if (!text.trim()) {
        close();
        return;
      }
      timer = setTimeout(() => fetchSuggestions(text), TYPEAHEAD_DELAY);
    });
    el.q.addEventListener("keydown", (event) => {
      if (list.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const down = event.key === "ArrowDown";
        // From the box, down goes to the first completion and up to the last.
        highlight(active < 0 ? (down ? 0 : -1) : active + (down ? 1 : -1));
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        choose(options()[active].textContent);
      } else if (event.key === "Escape") {
        event.preventDefault(); // a search box would clear itself
        close();
      }
    });
    el.q.addEventListener("blur", close);
    // Pressing on an option would move the focus away (and close the list) before the click.
    list.addEventListener("mousedown", (event) => event.preventDefault());
    list.addEventListener("click", (event) => {
      const item = event.target.closest("[role=option]");
      if (item) choose(item.textContent);
    });
    return { close };
  })();

  load();
})();
