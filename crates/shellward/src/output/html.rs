//! The HTML report: one self-contained page (no network, no CDN) a responder can open, keep and
//! send. It has the counts by level, rule, host and ATT&CK technique, the incidents, and a
//! timeline per host in which each alert opens (`<details>`, no script needed) to its event's
//! fields, the process ancestry, where the record came from and the rule with its investigation
//! and response guide. A small script filters the timeline by level, host and rule.
//!
//! Every value from telemetry is escaped for HTML text and attributes ([`escape`]) and no value
//! ever reaches the script: the filters read `data-` attributes. The page's Content-Security-Policy
//! allows nothing but its own style and script, by hash, so even markup that escaped the escaping
//! could not load or run anything.

use super::details;
use super::incidents::Incident;
use super::{AlertWriter, Out, Summary};
use base64::Engine;
use sha2::{Digest, Sha256};
use shellward_engine::{Level, RuleInfo};
use shellward_event::{Event, Timestamp, Value};
use shellward_hunt::Finding;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::Arc;

/// Fields of an event shown in an alert, at most.
const FIELDS: usize = 80;
/// Characters of a field's value shown, at most.
const VALUE: usize = 4000;

/// One alert, as the page shows it.
struct Entry {
    time: Option<Timestamp>,
    host: String,
    rule: Arc<RuleInfo>,
    summary: String,
    fields: Vec<(String, String)>,
    ancestry: Vec<String>,
    source: String,
    id: String,
    correlation: bool,
}

/// Writes the report when the hunt closes.
pub(crate) struct HtmlWriter {
    out: Out,
    entries: Vec<Entry>,
    /// Each rule once (alerts share it).
    rules: BTreeMap<String, Arc<RuleInfo>>,
    /// The incidents section, rendered when the hunt gives them.
    incidents: String,
}

impl HtmlWriter {
    pub(crate) fn new(out: Out) -> Self {
        HtmlWriter { out, entries: Vec::new(), rules: BTreeMap::new(), incidents: String::new() }
    }

    fn add(&mut self, event: &Event, rule: &RuleInfo, summary: String, correlation: bool) {
        let rule = Arc::clone(
            self.rules.entry(rule.key().to_owned()).or_insert_with(|| Arc::new(rule.clone())),
        );
        let fields = event
            .fields()
            .filter(|(_, v)| !v.is_null())
            .take(FIELDS)
            .map(|(name, value)| (name.to_string(), cut(&value.as_text(), VALUE)))
            .collect();
        let ancestry = match event.get("AncestorImage") {
            Some(Value::List(images)) => images.iter().map(|i| i.as_text().into_owned()).collect(),
            _ => Vec::new(),
        };
        self.entries.push(Entry {
            time: event.time,
            host: event.host.clone().unwrap_or_else(|| "-".into()),
            id: shellward_hunt::alert_id(event, &rule),
            rule,
            summary,
            fields,
            ancestry,
            source: format!("{} #{}", event.provenance.path, event.provenance.record),
            correlation,
        });
    }

    fn page(&self) -> String {
        let mut body = String::new();
        let alerts = self.entries.len();
        let hosts: BTreeMap<&str, u64> = self.entries.iter().fold(BTreeMap::new(), |mut m, e| {
            *m.entry(e.host.as_str()).or_default() += 1;
            m
        });
        let mut by_rule: BTreeMap<(std::cmp::Reverse<Level>, &str), u64> = BTreeMap::new();
        let mut by_level: BTreeMap<std::cmp::Reverse<Level>, u64> = BTreeMap::new();
        let mut by_technique: BTreeMap<String, u64> = BTreeMap::new();
        for entry in &self.entries {
            let level = std::cmp::Reverse(entry.rule.level);
            *by_rule.entry((level, entry.rule.title.as_str())).or_default() += 1;
            *by_level.entry(level).or_default() += 1;
            for technique in shellward_hunt::attack_tags(&entry.rule.tags).0 {
                *by_technique.entry(technique).or_default() += 1;
            }
        }
        let (first, last) = (
            self.entries.iter().filter_map(|e| e.time).min(),
            self.entries.iter().filter_map(|e| e.time).max(),
        );
        let _ = write!(
            body,
            "<header><h1>shellward report</h1><p>{alerts} alert(s) on {} host(s), {} to {}; \
             written {} by shellward {}.</p></header>",
            hosts.len(),
            escape(&details::time(first)),
            escape(&details::time(last)),
            escape(&details::time(Some(Timestamp::now()))),
            env!("CARGO_PKG_VERSION")
        );
        body.push_str("<section class=\"counts\">");
        counts(&mut body, "By level", by_level.iter().map(|(l, n)| (level_badge(l.0), *n)));
        counts(
            &mut body,
            "By rule",
            by_rule.iter().map(|((l, t), n)| (format!("{} {}", level_badge(l.0), escape(t)), *n)),
        );
        counts(&mut body, "By host", hosts.iter().map(|(h, n)| (escape(h), *n)));
        counts(
            &mut body,
            "By ATT&amp;CK technique",
            by_technique.iter().map(|(t, n)| (escape(t), *n)),
        );
        body.push_str("</section>");
        body.push_str(&self.incidents);
        self.filters(&mut body, &hosts, &by_rule);
        self.timeline(&mut body, &hosts);
        body
    }

    fn filters(
        &self,
        body: &mut String,
        hosts: &BTreeMap<&str, u64>,
        rules: &BTreeMap<(std::cmp::Reverse<Level>, &str), u64>,
    ) {
        body.push_str(
            "<section><h2>Timeline</h2><form id=\"filters\" class=\"filters\">\
             <label>Level at least <select id=\"f-level\"><option value=\"0\">any</option>",
        );
        for level in [Level::Low, Level::Medium, Level::High, Level::Critical] {
            let _ = write!(body, "<option value=\"{}\">{}</option>", rank(level), level.name());
        }
        body.push_str(
            "</select></label><label>Host <select id=\"f-host\"><option value=\"\">any</option>",
        );
        for host in hosts.keys() {
            let _ = write!(body, "<option value=\"{0}\">{0}</option>", escape(host));
        }
        body.push_str(
            "</select></label><label>Rule <select id=\"f-rule\"><option value=\"\">any</option>",
        );
        let mut titles: Vec<&str> = rules.keys().map(|(_, t)| *t).collect();
        titles.sort_unstable();
        titles.dedup();
        for title in titles {
            let _ = write!(body, "<option value=\"{0}\">{0}</option>", escape(title));
        }
        body.push_str("</select></label><span id=\"f-count\"></span></form>");
    }

    fn timeline(&self, body: &mut String, hosts: &BTreeMap<&str, u64>) {
        for host in hosts.keys() {
            let _ =
                write!(body, "<div class=\"host\" data-host=\"{0}\"><h3>{0}</h3>", escape(host));
            let mut entries: Vec<&Entry> =
                self.entries.iter().filter(|e| e.host == *host).collect();
            entries.sort_by_key(|e| e.time);
            for entry in entries {
                entry_html(body, entry);
            }
            body.push_str("</div>");
        }
        body.push_str("</section>");
    }
}

/// One alert: a summary line that opens to the event, the ancestry, the source and the rule.
fn entry_html(body: &mut String, entry: &Entry) {
    let rule = &entry.rule;
    let _ = write!(
        body,
        "<details class=\"alert\" data-rank=\"{}\" data-host=\"{}\" data-rule=\"{}\"><summary>\
         <time>{}</time> {} <b>{}</b>{} <span class=\"sum\">{}</span></summary><div class=\"body\">",
        rank(rule.level),
        escape(&entry.host),
        escape(&rule.title),
        escape(&details::time(entry.time)),
        level_badge(rule.level),
        escape(&rule.title),
        if entry.correlation { " <i>correlation</i>" } else { "" },
        escape(&details::one_line(&entry.summary))
    );
    if !entry.ancestry.is_empty() {
        body.push_str("<p><b>Ancestry</b> (root first): ");
        let chain: Vec<String> = entry.ancestry.iter().rev().map(|a| escape(a)).collect();
        let _ = write!(body, "<code>{}</code></p>", chain.join("</code> → <code>"));
    }
    let _ = write!(
        body,
        "<p><b>Source</b> <code>{}</code> <span class=\"note\">alert id {}</span></p>",
        escape(&entry.source),
        escape(&entry.id)
    );
    body.push_str("<table class=\"fields\">");
    for (name, value) in &entry.fields {
        let _ = write!(
            body,
            "<tr><th>{}</th><td><code>{}</code></td></tr>",
            escape(name),
            escape(value)
        );
    }
    body.push_str("</table><div class=\"rule\">");
    let _ = write!(
        body,
        "<p><b>Rule</b> {} <span class=\"note\">{} · {}</span></p>",
        escape(&rule.title),
        escape(rule.id.as_deref().unwrap_or("-")),
        escape(&rule.tags.join(", "))
    );
    if let Some(description) = &rule.description {
        let _ = write!(body, "<p>{}</p>", escape(description));
    }
    list(body, "Investigate", &rule.investigation);
    list(body, "Respond", &rule.response);
    list(body, "False positives", &rule.falsepositives);
    list(body, "References", &rule.references);
    body.push_str("</div></div></details>");
}

fn list(body: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = write!(body, "<p><b>{}</b></p><ul>", escape(title));
    for item in items {
        let _ = write!(body, "<li>{}</li>", escape(item));
    }
    body.push_str("</ul>");
}

fn counts(body: &mut String, title: &str, rows: impl Iterator<Item = (String, u64)>) {
    let _ = write!(body, "<div class=\"card\"><h2>{title}</h2><table>");
    for (label, count) in rows {
        let _ = write!(body, "<tr><td>{label}</td><td class=\"n\">{count}</td></tr>");
    }
    body.push_str("</table></div>");
}

/// A level as a coloured badge (the name is a constant, not telemetry).
fn level_badge(level: Level) -> String {
    format!("<span class=\"lv lv-{0}\">{0}</span>", level.name())
}

/// A level's order for the filter.
fn rank(level: Level) -> u8 {
    match level {
        Level::Informational => 0,
        Level::Low => 1,
        Level::Medium => 2,
        Level::High => 3,
        Level::Critical => 4,
    }
}

/// Text made safe for HTML text and double- or single-quoted attributes; control characters shown
/// as escapes, as the table shows them.
pub(crate) fn escape(text: &str) -> String {
    let text = crate::report::escape(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width).collect();
    cut.push_str(" …");
    cut
}

/// The page's style.
const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em 2em;color:#1b1f24;background:#fafafa}\
h1{margin:.2em 0}h2{font-size:1.1em;margin:.6em 0}h3{margin:1em 0 .3em;border-bottom:1px solid #ddd}\
.counts{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5em 1em;min-width:14em;max-height:26em;overflow:auto}\
.card table{border-collapse:collapse}.card td{padding:1px 6px}.n{text-align:right;color:#555}\
.lv{display:inline-block;min-width:5.5em;text-align:center;border-radius:3px;font-size:.85em;padding:0 4px;color:#fff;background:#777}\
.lv-critical{background:#8b0000}.lv-high{background:#d1242f}.lv-medium{background:#bf8700}.lv-low{background:#1a7f37}.lv-informational{background:#6e7781}\
.filters{display:flex;gap:1em;align-items:center;margin:.5em 0;flex-wrap:wrap}\
details.alert{background:#fff;border:1px solid #e1e4e8;border-radius:4px;margin:3px 0;padding:3px 8px}\
details.alert summary{cursor:pointer;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\
time{font-family:ui-monospace,monospace;color:#555}.sum{font-family:ui-monospace,monospace;color:#333}\
.body{padding:.4em 0 .4em 1em;white-space:normal}table.fields{border-collapse:collapse;width:100%;table-layout:fixed}\
table.fields th{text-align:left;width:14em;vertical-align:top;font-weight:600;padding:2px 6px;color:#444}\
table.fields td{padding:2px 6px;word-break:break-all}code{font-family:ui-monospace,monospace;white-space:pre-wrap}\
.note{color:#666;font-size:.9em}.rule{border-left:3px solid #ddd;padding-left:.8em;margin-top:.5em}\
ol.incidents>li{margin:.4em 0}[hidden]{display:none!important}";

/// The filters: hide alerts below the chosen level or on another host or rule.
const SCRIPT: &str = "(function(){var f=document.getElementById('filters');if(!f)return;\
function apply(){var l=+document.getElementById('f-level').value,h=document.getElementById('f-host').value,\
r=document.getElementById('f-rule').value,shown=0;\
document.querySelectorAll('details.alert').forEach(function(a){var ok=+a.dataset.rank>=l&&(!h||a.dataset.host===h)&&(!r||a.dataset.rule===r);\
a.hidden=!ok;if(ok)shown++;});\
document.querySelectorAll('div.host').forEach(function(d){d.hidden=!!h&&d.dataset.host!==h;});\
document.getElementById('f-count').textContent=shown+' shown';}\
f.addEventListener('change',apply);apply();})();";

/// `'sha256-...'` of a script or style, for the Content-Security-Policy.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

impl AlertWriter for HtmlWriter {
    fn finding(&mut self, finding: &Finding<'_>) -> io::Result<()> {
        let summary = details::finding_details(finding);
        self.add(&finding.event, finding.rule, summary, finding.correlated.is_some());
        Ok(())
    }

    fn incidents(&mut self, incidents: &[Incident], gap: i64) -> io::Result<()> {
        // Rendered now, into the section the page shows after the counts.
        let out = &mut self.incidents;
        out.clear();
        if incidents.is_empty() {
            return Ok(());
        }
        let _ = write!(
            out,
            "<section><h2>Incidents</h2><p class=\"note\">Findings on a host less than {} \
             apart, most severe first.</p><ol class=\"incidents\">",
            escape(&shellward_hunt::format_duration(gap))
        );
        for incident in incidents {
            let span = format!(
                "{} → {}",
                details::time(Some(incident.start)),
                details::time(Some(incident.end))
            );
            let _ = write!(
                out,
                "<li>{} <b>{}</b> on <b>{}</b>, {} <span class=\"n\">{} finding(s)</span><ul>",
                level_badge(incident.level),
                escape(&incident.headline),
                escape(&incident.host),
                escape(&span),
                incident.findings
            );
            for (time, level, title, detail, repeats) in &incident.lines {
                let times = if *repeats > 1 { format!(" ×{repeats}") } else { String::new() };
                let line = format!(
                    "{} {} {title}{times}: {}",
                    details::time(Some(*time)),
                    level.name(),
                    details::clip(detail, 200)
                );
                let _ = write!(out, "<li>{}</li>", escape(&line));
            }
            out.push_str("</ul></li>");
        }
        out.push_str("</ol></section>");
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        // The page is written whole when the hunt closes, incidents included.
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        let policy = format!(
            "default-src 'none'; style-src {}; script-src {}; img-src data:; base-uri 'none'; form-action 'none'",
            csp_hash(STYLE),
            csp_hash(SCRIPT)
        );
        let page = self.page();
        write!(
            self.out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>shellward report</title><style>{STYLE}</style></head><body>{page}\
             <script>{SCRIPT}</script></body></html>\n"
        )?;
        self.out.flush()
    }
}
