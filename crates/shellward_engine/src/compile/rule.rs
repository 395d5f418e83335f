//! A compiled rule: its metadata, logsource, search identifiers, condition and filters.

use std::collections::HashMap;

use rsigma_parser::{Detections, SigmaRule};

use crate::compile::condition::{self, Cond};
use crate::compile::detection::{self, Det};
use crate::compile::error::CompileError;
use crate::compile::fields::FieldIds;
use crate::compile::first_seen::FirstSeen;
use crate::compile::level::Level;
use crate::compile::logsource::RuleLogSource;

/// What is known about a rule besides its logic: what alerts and `rules list` show.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// `id` (a UUID in SigmaHQ).
    pub id: Option<String>,
    /// `name`, the identifier correlation rules and filters may use.
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `level` (`medium` when the rule gives none).
    pub level: Level,
    /// `status`, as written.
    pub status: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// shellward's `detection_type` attribute (the seeds' categories), if any.
    pub detection_type: Option<String>,
    /// shellward's `first_seen` attribute: alert only on the first event with a new value.
    pub first_seen: Option<FirstSeen>,
    /// `description`.
    pub description: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// shellward's `investigation` attribute: what to look at first when the rule fires.
    pub investigation: Vec<String>,
    /// shellward's `response` attribute: what to do about it.
    pub response: Vec<String>,
    /// The event fields the rule's detection tests, in first-use order (what a report shows of
    /// an alert's event).
    pub fields: Vec<String>,
    /// The logsource.
    pub logsource: RuleLogSource,
    /// The rule file (or `builtin:NAME`).
    pub origin: String,
    /// The line of the rule's document in that file.
    pub line: u32,
}

impl RuleInfo {
    /// The id if the rule has one, else its title.
    pub fn key(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.title)
    }

    /// Whether `reference` (an id, name or title, as correlations and filters cite rules) names
    /// this rule.
    pub fn is_named(&self, reference: &str) -> bool {
        self.id.as_deref() == Some(reference)
            || self.name.as_deref() == Some(reference)
            || self.title == reference
    }
}

/// A rule ready to match events.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// Metadata.
    pub info: RuleInfo,
    pub(crate) detections: Vec<Det>,
    /// The condition list (ORed).
    pub(crate) conditions: Vec<Cond>,
    /// Conditions of the filters applied to this rule (all must hold).
    pub(crate) filters: Vec<Cond>,
}

impl CompiledRule {
    /// Compiles a parsed rule.
    pub(crate) fn compile(
        rule: &SigmaRule,
        origin: String,
        line: u32,
        ids: &mut FieldIds,
    ) -> Result<CompiledRule, CompileError> {
        let mut detections = Vec::new();
        let conditions = compile_detections(&rule.detection, &mut detections, ids)?;
        let mut fields: Vec<String> = Vec::new();
        for detection in &mut detections {
            detection.fields_mut(&mut |field| {
                if !field.name.is_empty() && !fields.contains(&field.name) {
                    fields.push(field.name.clone());
                }
            });
        }
        let logsource = RuleLogSource::new(&rule.logsource);
        let detection_type = detection_type(&rule.custom_attributes);
        let first_seen = FirstSeen::from_attribute(rule.custom_attributes.get("first_seen"))?;
        let info = RuleInfo {
            id: rule.id.clone(),
            name: rule.name.clone(),
            title: rule.title.clone(),
            level: rule.level.map_or(Level::Medium, Level::from_sigma),
            status: rule.status.map(status_name),
            tags: rule.tags.clone(),
            detection_type,
            first_seen,
            description: rule.description.clone(),
            author: rule.author.clone(),
            references: rule.references.clone(),
            falsepositives: rule.falsepositives.clone(),
            investigation: guide(&rule.custom_attributes, "investigation"),
            response: guide(&rule.custom_attributes, "response"),
            fields,
            logsource,
            origin,
            line,
        };
        Ok(CompiledRule { info, detections, conditions, filters: Vec::new() })
    }

    /// Gives the rule's fields their ids in `ids` (a rule compiled on its own, with ids of its
    /// own, joining a rule set).
    pub(crate) fn intern_fields(&mut self, ids: &mut FieldIds) {
        for detection in &mut self.detections {
            detection.fields_mut(&mut |field| field.id = ids.id(&field.name));
        }
    }

    /// Adds a filter's detections; the rule then also needs the filter's condition.
    pub(crate) fn add_filter(
        &mut self,
        filter: &Detections,
        ids: &mut FieldIds,
    ) -> Result<(), CompileError> {
        let conditions = compile_detections(filter, &mut self.detections, ids)?;
        self.filters.push(if conditions.len() == 1 {
            conditions.into_iter().next().unwrap_or(Cond::Or(Vec::new()))
        } else {
            Cond::Or(conditions)
        });
        Ok(())
    }

    /// The rule's logsource.
    pub fn logsource(&self) -> &RuleLogSource {
        &self.info.logsource
    }

    /// Its search identifiers, compiled.
    pub(crate) fn detections(&self) -> &[Det] {
        &self.detections
    }

    /// Its condition list (ORed).
    pub(crate) fn conditions(&self) -> &[Cond] {
        &self.conditions
    }

    /// The conditions of the filters applied to it (all must hold).
    pub(crate) fn filter_conditions(&self) -> &[Cond] {
        &self.filters
    }

    /// The ids of the fields its items read (sorted, without repeats).
    pub(crate) fn field_ids(&self) -> Vec<u32> {
        let mut ids = Vec::new();
        for det in &self.detections {
            det.field_ids(&mut ids);
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Why a regular expression of its items (filters' included) matches nothing: each one that
    /// cannot be built, with the reason. `build` builds those not built yet; otherwise only those
    /// already tried are looked at (see [`crate::compile::regex`]).
    pub(crate) fn regex_problems(&self, build: bool) -> Vec<String> {
        let mut problems = Vec::new();
        for det in &self.detections {
            det.items(&mut |item| {
                for regex in item.regexes() {
                    let problem = if build { regex.problem() } else { regex.failed() };
                    if let Some(why) = problem {
                        let matches = if regex.matches_ascii() {
                            " for text that is not ASCII, so it matches only ASCII text"
                        } else {
                            ", so it matches nothing"
                        };
                        problems.push(format!(
                            "regular expression cannot be built{matches}: {} ({})",
                            regex.as_str(),
                            why.lines().last().unwrap_or(why)
                        ));
                    }
                }
            });
        }
        problems
    }

    /// Whether it searches keywords (items with no field, which read every field).
    pub(crate) fn reads_keywords(&self) -> bool {
        self.detections.iter().any(Det::has_keywords)
    }
}

/// shellward's `detection_type` attribute of a rule or correlation.
pub(crate) fn detection_type(attributes: &HashMap<String, yaml_serde::Value>) -> Option<String> {
    attributes.get("detection_type").and_then(|v| v.as_str()).map(str::to_string)
}

/// A guide attribute (`investigation`, `response`): a list of steps, or one.
pub(crate) fn guide(attributes: &HashMap<String, yaml_serde::Value>, name: &str) -> Vec<String> {
    match attributes.get(name) {
        Some(yaml_serde::Value::Sequence(steps)) => {
            steps.iter().filter_map(|s| s.as_str()).map(str::to_owned).collect()
        }
        Some(value) => value.as_str().map(str::to_owned).into_iter().collect(),
        None => Vec::new(),
    }
}

/// A Sigma `status` as written (`experimental`, ...).
pub(crate) fn status_name(status: rsigma_parser::Status) -> String {
    format!("{status:?}").to_lowercase()
}

/// Compiles a detection section's identifiers (appended to `out`) and returns its conditions.
fn compile_detections(
    detections: &Detections,
    out: &mut Vec<Det>,
    ids: &mut FieldIds,
) -> Result<Vec<Cond>, CompileError> {
    let mut names: Vec<&String> = detections.named.keys().collect();
    names.sort();
    let mut index = HashMap::new();
    for name in names {
        index.insert(name.clone(), out.len());
        out.push(detection::compile(name, &detections.named[name], ids)?);
    }
    if detections.conditions.is_empty() {
        return Err(CompileError::Condition("no condition".into()));
    }
    detections.conditions.iter().map(|c| condition::compile(c, &index)).collect()
}
