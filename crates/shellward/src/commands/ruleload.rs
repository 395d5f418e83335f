//! Loading the rules a command runs: the built-in pack and `--rules` paths, compiled, with their
//! diagnostics printed on standard error.

use crate::args::RuleSelection;
use crate::report;
use rayon::prelude::*;
use shellward_engine::RuleSet;
use shellward_sigma::{Diagnostic, Loaded, Origin, Severity, load_paths, load_text};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Everything loaded, kept for `rules show`, and the compiled set.
pub(crate) struct Rules {
    pub(crate) loaded: Loaded,
    pub(crate) set: RuleSet,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Rules {
    /// Errors (rules left out) and warnings.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let errors = self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        (errors, self.diagnostics.len() - errors)
    }
}

/// Loads the built-in pack (unless `--no-builtin`) and every `--rules` path, and compiles them.
/// A `--rules` path that does not exist is a usage error, and so, with `--strict`, is a rule that
/// fails to load (its diagnostics are printed first).
pub(crate) fn load(selection: &RuleSelection) -> anyhow::Result<Rules> {
    super::require_paths(&selection.rules, "--rules")?;
    let mut rules = load_unchecked(selection);
    if selection.strict {
        // Regular expressions are built on first use; --strict builds them all first, so that
        // one too large to build stops the run too.
        let problems = rules.set.regex_problems(true);
        rules.diagnostics.extend(problems);
        let (errors, _) = rules.counts();
        if errors > 0 {
            print_diagnostics(&rules, true);
            anyhow::bail!("--strict: {errors} rule(s) could not be loaded");
        }
    }
    Ok(rules)
}

/// The rules a hunt or a watch runs: [`load`]ed, their diagnostics printed (all of them when
/// `verbose`), `--min-level` applied. No rule left to run is a usage error.
pub(crate) fn load_to_run(
    selection: &RuleSelection,
    verbose: bool,
    min_level: Option<shellward_engine::Level>,
) -> anyhow::Result<Rules> {
    let mut rules = load(selection)?;
    print_diagnostics(&rules, verbose);
    let loaded = rules.set.len();
    if let Some(min) = min_level {
        rules.set.retain_at_or_above(min);
    }
    if rules.set.is_empty() {
        if loaded == 0 {
            anyhow::bail!("no rules to run (give --rules PATH, or drop --no-builtin)");
        }
        anyhow::bail!("no rule at or above --min-level");
    }
    Ok(rules)
}

/// The rules a long-running `watch` runs: [`load_to_run`], with every regular expression built
/// at once (they are otherwise built on first use), so that one too large to build is reported at
/// start rather than never.
pub(crate) fn load_to_serve(
    selection: &RuleSelection,
    verbose: bool,
    min_level: Option<shellward_engine::Level>,
) -> anyhow::Result<RuleSet> {
    let rules = load_to_run(selection, verbose, min_level)?;
    rules.set.regex_problems(true).iter().for_each(report::diagnostic);
    Ok(rules.set)
}

/// [`load`] without its checks.
fn load_unchecked(selection: &RuleSelection) -> Rules {
    let mut loaded = Loaded::default();
    if !selection.no_builtin {
        // In parallel, as `load_paths` parses files: parsing the pack's YAML was most of the
        // time a hunt of a few small files took.
        let parts: Vec<Loaded> = BUILTIN_RULES
            .par_iter()
            .map(|(name, text)| {
                load_text(Origin::Builtin((*name).to_string()), (*text).to_string())
            })
            .collect();
        parts.into_iter().for_each(|part| loaded.extend(part));
    }
    loaded.extend(load_paths(&selection.rules));
    compile(loaded)
}

/// Loads only the given paths.
pub(crate) fn load_only(paths: &[std::path::PathBuf]) -> Rules {
    compile(load_paths(paths))
}

fn compile(loaded: Loaded) -> Rules {
    let (set, compile_diagnostics) = RuleSet::compile(&loaded);
    let mut diagnostics = loaded.diagnostics.clone();
    diagnostics.extend(compile_diagnostics);
    diagnostics.sort_by(|a, b| (&a.origin, a.line).cmp(&(&b.origin, b.line)));
    Rules { loaded, set, diagnostics }
}

/// Prints rule diagnostics: all of them when `all`, else the first few and a count.
pub(crate) fn print_diagnostics(rules: &Rules, all: bool) {
    const SHOWN: usize = 10;
    for (i, diagnostic) in rules.diagnostics.iter().enumerate() {
        if !all && i == SHOWN {
            report::note(&format!(
                "... and {} more rule problem(s) (-v or `shellward rules check` lists them)",
                rules.diagnostics.len() - SHOWN
            ));
            break;
        }
        report::diagnostic(diagnostic);
    }
}
