"use strict";
(() => {
  const data = JSON.parse(document.getElementById("data").textContent);
  const $ = (id) => document.getElementById(id);
  const fold = (s) => s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  const cell = (tr, text, cls) => {
    const td = tr.insertCell();
    if (cls) td.className = cls;
    if (text) td.textContent = text;
    return td;
  };
  const link = (tr, url, text, cls) => {
    if (!url || !/^https?:\/\//i.test(url)) return cell(tr, text, cls);
    const a = document.createElement("a");
    a.href = url;
    a.textContent = text;
    cell(tr, "", cls).appendChild(a);
  };
  const copied = (button, text) => () => {
    button.textContent = text;
    setTimeout(() => { button.textContent = "Copy BibTeX"; }, 2000);
  };
  const copyBib = (button, text) => {
    const byHand = () => { // no clipboard API (a page opened from disk in some browsers)
      const area = document.createElement("textarea");
      area.value = text;
      area.readOnly = true;
      area.className = "clip";
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      copied(button, ok ? "Copied" : "Copy failed")();
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(copied(button, "Copied"), byHand);
    } else byHand();
  };
  const bibButton = (tr, text) => {
    const td = cell(tr, "", "bib");
    if (!text) return;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Copy BibTeX";
    button.title = text;
    button.addEventListener("click", () => copyBib(button, text));
    td.appendChild(button);
  };
  const svg = "http://www.w3.org/2000/svg";
  const spark = (tr, points) => {
    const td = cell(tr, "", "spark");
    if (!points) return;
    const chart = document.createElementNS(svg, "svg");
    for (const [name, value] of [["viewBox", "0 0 80 16"], ["width", "80"], ["height", "16"],
      ["role", "img"], ["aria-label", "over the last year"]]) chart.setAttribute(name, value);
    const line = document.createElementNS(svg, "polyline");
    line.setAttribute("points", points);
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "currentColor");
    chart.appendChild(line);
    td.appendChild(chart);
  };
  const number = (key) => (r) => r[key] && r[key].n;
  const sortKey = { published: (r) => r.published && r.published.sort };
  const counted = ["stars", "downloads", "citations"];
  const trends = counted.map((key) => key + "_trend");
  for (const key of [...counted, ...trends]) sortKey[key] = number(key);
  const rows = data.rows.map((row, index) => {
    const tr = document.createElement("tr");
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = row.name;
    tr.appendChild(name);
    link(tr, row.paper, row.title, "t");
    cell(tr, row.section, "sec");
    cell(tr, row.year, "d");
    cell(tr, row.published && row.published.text, "d");
    for (const key of ["stars", "downloads", "citations"]) cell(tr, row[key] && row[key].text, "n");
    for (const key of ["code", "model"]) link(tr, (row[key] || {}).url, (row[key] || {}).text);
    for (const key of trends) cell(tr, row[key] && row[key].text, "n");
    cell(tr, row.status.join(", "), "d");
    spark(tr, row.spark);
    bibButton(tr, row.bib);
    const hay = fold([row.name, row.title, row.section, row.authors].join(" "));
    return { row, tr, index, hay };
  });
  for (const [i, label] of data.sections.entries()) $("section").add(new Option(label, String(i)));
  for (const kind of data.kinds) $("kind").add(new Option("has " + kind, kind));
  for (const flag of data.statuses) $("status").add(new Option(flag, flag));
  let sort = null;
  const order = () => {
    if (!sort) return rows;
    const key = sortKey[sort.key], sign = sort.dir === "descending" ? -1 : 1;
    return rows.slice().sort((a, b) => {
      const x = key(a.row), y = key(b.row);
      if (x == null || y == null) return (x == null) - (y == null) || a.index - b.index;
      return (x < y ? -sign : x > y ? sign : 0) || a.index - b.index;
    });
  };
  const update = () => {
    const words = fold($("q").value).split(/\s+/).filter(Boolean);
    const section = $("section").value, kind = $("kind").value, flag = $("status").value;
    let shown = 0;
    for (const r of rows) {
      const ok = words.every((w) => r.hay.includes(w))
        && (section === "" || r.row.in.includes(Number(section)))
        && (kind === "" || r.row.kinds.includes(kind))
        && (flag === "" || r.row.status.includes(flag));
      r.tr.hidden = !ok;
      shown += ok;
    }
    const frag = document.createDocumentFragment();
    for (const r of order()) frag.appendChild(r.tr);
    $("rows").appendChild(frag);
    $("count").textContent = shown + " of " + rows.length + " rows shown";
  };
  for (const button of document.querySelectorAll("th button[data-sort]")) {
    button.addEventListener("click", () => {
      const key = button.dataset.sort;
      const again = sort && sort.key === key && sort.dir === "descending";
      sort = { key, dir: again ? "ascending" : "descending" };
      for (const th of document.querySelectorAll("th[aria-sort]")) th.removeAttribute("aria-sort");
      button.parentElement.setAttribute("aria-sort", sort.dir);
      update();
    });
  }
  for (const id of ["q", "section", "kind", "status"]) $(id).addEventListener("input", update);
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  update();
})();
