//! `shellward events`: decode telemetry and print the normalized events as JSON lines.

use crate::args::EventsArgs;
use crate::report::Problems;
use anyhow::{Context, bail};
use shellward_event::{Event, LogSource};
use shellward_sources::{Problem, Sink};
use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

/// Runs the command; the exit status is [`crate::status`]'s.
pub(crate) fn run(args: &EventsArgs, threads: Option<usize>) -> anyhow::Result<ExitCode> {
    let filters =
        args.logsource.iter().map(|f| parse_filter(f)).collect::<anyhow::Result<Vec<_>>>()?;
    super::require_paths(&args.input.paths, "input")?;
    let options = super::read_options(&args.input, threads)?;
    let (files, expand_problems) = shellward_sources::expand(&args.input.paths);
    let stdout = std::io::stdout();
    let mut printer = Printer {
        out: std::io::BufWriter::with_capacity(1 << 16, stdout.lock()),
        filters,
        limit: args.limit,
        printed: 0,
        read: 0,
        write_error: None,
        problems: Problems::new(args.verbose),
    };
    for problem in &expand_problems {
        printer.problems.add(problem);
    }
    let _ = shellward_sources::read_all(&files, &options, &mut printer);
    if let Some(e) = printer.write_error.take() {
        return Err(e).context("writing events");
    }
    printer.out.flush().context("writing events")?;
    printer.problems.summary(files.len() + expand_problems.len(), printer.printed);
    Ok(printer.problems.status(printer.read).finish())
}

/// A `--logsource` filter: a part of the log source that must equal a value.
#[derive(Debug)]
enum Filter {
    Part(LogSource),
    Any(String),
}

fn parse_filter(text: &str) -> anyhow::Result<Filter> {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
    Ok(match text.split_once('=') {
        None => Filter::Any(text.to_owned()),
        Some(("product", v)) => {
            Filter::Part(LogSource { product: Some(leak(v)), ..LogSource::default() })
        }
        Some(("category", v)) => {
            Filter::Part(LogSource { category: Some(leak(v)), ..LogSource::default() })
        }
        Some(("service", v)) => {
            Filter::Part(LogSource { service: Some(leak(v)), ..LogSource::default() })
        }
        Some((key, _)) => bail!("--logsource takes product=, category= or service=, not {key}="),
    })
}

impl Filter {
    fn accepts(&self, source: &LogSource) -> bool {
        match self {
            Filter::Part(want) => source.matches(want),
            Filter::Any(name) => [source.product, source.category, source.service]
                .into_iter()
                .flatten()
                .any(|part| part.eq_ignore_ascii_case(name)),
        }
    }
}

struct Printer<W: Write> {
    out: W,
    filters: Vec<Filter>,
    limit: Option<u64>,
    printed: u64,
    /// Events read, whether printed or not.
    read: u64,
    write_error: Option<std::io::Error>,
    problems: Problems,
}

impl<W: Write> Sink for Printer<W> {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        self.read += 1;
        if self.limit.is_some_and(|limit| self.printed >= limit) {
            return ControlFlow::Break(());
        }
        if !self.filters.iter().all(|f| f.accepts(&event.logsource)) {
            return ControlFlow::Continue(());
        }
        if let Err(e) = serde_json::to_writer(&mut self.out, &event)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
        {
            self.write_error = Some(e);
            return ControlFlow::Break(());
        }
        self.printed += 1;
        if self.limit.is_some_and(|limit| self.printed >= limit) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn problem(&mut self, problem: Problem) {
        self.problems.add(&problem);
    }
}
