//! Process lineage: a bounded table of the processes each host started, built from process
//! creation events, that gives every new process its chain of ancestors.
//!
//! # Identity
//! A process is named by what its source uses, with the host: Sysmon's `ProcessGuid` (parent:
//! `ParentProcessGuid`), Falcon's `TargetProcessId` (`ParentProcessId`), Defender's `ProcessId`
//! with `ProcessCreationTime` (`InitiatingProcessId` with `InitiatingProcessCreationTime`),
//! Security 4688's `NewProcessId` (`ProcessId`, the creator), and otherwise `ProcessId`
//! (`ParentProcessId`), as auditd gives them. A reused process id simply replaces the process
//! that had it: a child always names the latest process with its parent's id.
//!
//! Falcon's ids are unique per sensor, so its processes are kept under the sensor id (`aid`)
//! rather than the host name, which few Falcon events carry.
//!
//! This is the only process table: decoders name processes and parents by id as their source
//! does and leave every linking to it, so lineage is the same whether events come from one file,
//! many, or a live stream read a few lines at a time.
//!
//! # What it adds to an event
//! [`Lineage::observe`] is called on every event a screen passes for it ([`Lineage::wants`]), in
//! input order. On a process creation it walks from the event's parent up to [`MAX_DEPTH`]
//! ancestors and adds:
//! - `ParentImage` and `ParentCommandLine` when the source lacks them (4688 has no parent command
//!   line; Falcon and auditd name the parent by id only). A parent given by its file name only
//!   (Falcon writes `\w3wp.exe` from `ParentBaseFileName`) gets the full path;
//! - `AncestorImage` and `AncestorCommandLine`: lists, parent first, so a rule on them matches if
//!   any ancestor does, and list position + 1 is the depth. The direct parent is included, taken
//!   from the event itself when the table does not know it.
//!
//! On other events it adds what is known of the process that acted: the ancestors of a Sysmon
//! event's `ProcessGuid`; the `Image` and `CommandLine` of a Falcon event's `ContextProcessId`
//! (the decoder gives only its file name, from `ContextBaseFileName`). An auditd `SYSCALL` record
//! teaches the table the executable (`exe`) of its `pid`, so a process started before its parent's
//! `execve` was logged still gets a `ParentImage`.
//!
//! # Memory bound
//! The table forgets processes while it holds more than [`Limits::max_processes`] or more than
//! [`Limits::max_bytes`] of text (images and command lines, each command line cut to
//! [`MAX_COMMAND_LINE`] bytes), least recently used first (a process is used when it starts and
//! whenever it is named as an ancestor; "second chance" order, so a use costs no queue entry),
//! and any process idle for longer than [`Limits::max_idle`] of event time. With the defaults it
//! holds at most 262,144 processes and 64 MiB of text, plus about 250 bytes of bookkeeping per
//! process. Measured on 10 million generated process creations (`ONLY=lineage scripts/bench`):
//! the table alone peaks at about 135 MB of resident memory, flat from 4 million events on.

use super::server;
use rustc_hash::{FxHashMap, FxHashSet};
use shellward_event::{Event, Format, LogSource, Timestamp, Value};
use std::collections::VecDeque;
use std::sync::Arc;

/// The most ancestors followed from one process.
pub const MAX_DEPTH: usize = 32;

/// The longest command line kept, in bytes (longer ones are cut on a character boundary).
pub const MAX_COMMAND_LINE: usize = 4096;

/// The longest image path kept, in bytes.
const MAX_IMAGE: usize = 1024;

/// Distinct image paths shared before the set of them starts again.
const MAX_IMAGES: usize = 1 << 16;

/// The fields lineage adds that no source has: every ancestor's image and command line, and
/// whether the parent is a server process ([`super::server`]).
pub const ANCESTOR_FIELDS: [&str; 3] =
    ["AncestorImage", "AncestorCommandLine", super::server::PARENT_IS_SERVER];

/// How much the table may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most processes remembered, over all hosts.
    pub max_processes: usize,
    /// Most bytes of image and command line text remembered.
    pub max_bytes: usize,
    /// A process neither started nor named as a parent for this many seconds of event time
    /// (measured from the newest event seen) is forgotten. IIS recycles its worker processes
    /// every 29 hours by default; a week keeps long-lived servers that go quiet for a while.
    pub max_idle: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_processes: 1 << 18, max_bytes: 64 << 20, max_idle: 7 * 86_400 }
    }
}

/// One ancestor of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    /// Its executable.
    pub image: String,
    /// Its command line, if known.
    pub command_line: Option<String>,
}

/// What [`Lineage::observe`] added to an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Added {
    /// `ParentImage` was filled in.
    pub parent_image: bool,
    /// `ParentCommandLine` was filled in.
    pub parent_command_line: bool,
    /// `AncestorImage` (and `AncestorCommandLine` where known) were added.
    pub ancestors: bool,
    /// The acting process's `Image` was filled in (or its file name replaced by its path).
    pub image: bool,
    /// The acting process's `CommandLine` was filled in.
    pub command_line: bool,
    /// `ParentIsServer` was set.
    pub parent_is_server: bool,
}

impl Added {
    /// The names of the fields added.
    pub fn fields(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.parent_image, "ParentImage"),
            (self.parent_command_line, "ParentCommandLine"),
            (self.ancestors, ANCESTOR_FIELDS[0]),
            (self.ancestors, ANCESTOR_FIELDS[1]),
            (self.image, "Image"),
            (self.command_line, "CommandLine"),
            (self.parent_is_server, ANCESTOR_FIELDS[2]),
        ]
        .into_iter()
        .filter_map(|(added, name)| added.then_some(name))
    }

    /// Whether anything was added.
    pub fn any(&self) -> bool {
        self.parent_image
            || self.parent_command_line
            || self.ancestors
            || self.image
            || self.command_line
            || self.parent_is_server
    }
}

/// A remembered process.
#[derive(Debug)]
struct Node {
    /// Its own key (shared with the map and the use order).
    key: Arc<str>,
    /// Images repeat: shared through [`Lineage::images`].
    image: Arc<str>,
    command_line: Option<Box<str>>,
    parent: Option<Arc<str>>,
    /// Whether it is a server process ([`super::server`]).
    server: bool,
    /// The sequence number of its latest use.
    used: u64,
    /// The sequence number of its entry in [`Lineage::order`].
    queued: u64,
    /// The event time of its latest use.
    time: Option<Timestamp>,
}

impl Node {
    fn bytes(&self) -> usize {
        self.image.len() + self.command_line.as_ref().map_or(0, |c| c.len())
    }
}

/// The process table (see the module documentation).
#[derive(Debug, Default)]
pub struct Lineage {
    limits: Limits,
    /// Boxed: the map's buckets stay small (it keeps up to twice as many as it holds).
    nodes: FxHashMap<Arc<str>, Box<Node>>,
    /// One entry per process, oldest first, with a sequence number (an entry that is not its
    /// node's `queued` is stale and skipped). Eviction takes the front; one used since it was
    /// queued goes to the back instead (a second chance: least recently used, approximately,
    /// without touching the queue on every use).
    order: VecDeque<(u64, Arc<str>)>,
    /// Distinct images, shared by the processes that ran them (cleared when it grows past
    /// [`MAX_IMAGES`]).
    images: FxHashSet<Arc<str>>,
    sequence: u64,
    bytes: usize,
    newest: Option<Timestamp>,
    /// Processes forgotten to stay within the limits (not for being idle).
    forgotten: u64,
}

impl Lineage {
    /// An empty table with these limits.
    pub fn new(limits: Limits) -> Self {
        Lineage { limits, ..Lineage::default() }
    }

    /// How many processes are remembered.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Bytes of text held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many processes were forgotten to stay within [`Limits`] (idle ones are not counted):
    /// a child of one of them gets no ancestors from the table.
    pub fn forgotten(&self) -> u64 {
        self.forgotten
    }

    /// Whether lineage reads events of this log source whatever rules match them: process
    /// creations build the table, and auditd records teach it executables. A screen passes
    /// these on (and a decoder must not skip them) when the hunt tracks lineage.
    pub fn wants_source(logsource: &LogSource) -> bool {
        logsource.category == Some("process_creation")
            || logsource.category == Some("network_connection")
            || (logsource.product == Some("linux") && logsource.service == Some("auditd"))
    }

    /// Whether [`Lineage::observe`] may read or change this event, so that a screen must pass it
    /// on even when no rule matched it yet: process creations, auditd `SYSCALL` records naming a
    /// `pid` and its `exe`, and events whose acting process the table may name in full (a Falcon
    /// event with a `ContextProcessId` and no full `Image`).
    pub fn wants(event: &Event) -> bool {
        let logsource = &event.logsource;
        if logsource.category == Some("process_creation") || server::accepts_inbound(event) {
            return true;
        }
        if logsource.service == Some("auditd") {
            return event.get_str("type") == Some("SYSCALL")
                && event.get_str("pid").is_some()
                && event.get_str("exe").is_some();
        }
        event.get_str("ContextProcessId").is_some() && event.get_str("Image").is_none_or(name_only)
    }

    /// Takes an event in input order: a process creation gets its parent and ancestor fields and
    /// is remembered; another event gets what is known of its acting process (see the module
    /// documentation). Events that name no process are left alone.
    pub fn observe(&mut self, event: &mut Event) -> Added {
        if event.logsource.category != Some("process_creation") {
            return self.actor(event);
        }
        let Some((own, parent)) = identity(event) else {
            // No process ids: the parent is judged from the event alone.
            let parent_is_server = mark_parent_server(event, None);
            return Added { parent_is_server, ..Added::default() };
        };
        // A process cannot be its own parent (some 4688 records give the new process's id as
        // the creator's): no parent then, rather than whatever earlier process had that id.
        let parent = parent.filter(|p| *p != own);
        let host = scope(event);
        let own: Arc<str> = key(host, &own).into();
        let parent = parent.map(|p| self.shared_key(key(host, &p)));
        if let Some(time) = event.time {
            self.newest = Some(self.newest.map_or(time, |n| n.max(time)));
        }
        let known_parent = parent
            .as_ref()
            .and_then(|p| self.nodes.get(p))
            .map(|node| (Arc::clone(&node.image), node.server));
        let mut chain = self.ancestors(parent.clone(), event.time);
        let mut added = enrich(event, &mut chain);
        let parent_known = known_parent.is_some();
        let parent_server = mark_parent_server(event, known_parent);
        added.parent_is_server = parent_server;
        // A parent the table does not know (started before the logs begin, as a web server
        // usually is) is remembered as the event names it, so that its descendants' chains reach
        // it: w3wp.exe above cmd.exe above the PowerShell that connects out.
        if !parent_known
            && let Some(parent) = &parent
            && let Some(image) = event.get_str("ParentImage").filter(|i| !i.is_empty())
        {
            let command_line = event.get_str("ParentCommandLine");
            self.remember_image(parent.to_string(), image, command_line, parent_server, event.time);
        }
        if let Some(image) = event.get_str("Image").filter(|i| !i.is_empty()) {
            let command_line = event.get_str("CommandLine");
            // A runtime serves when its own command line or an ancestor's starts a server (a
            // gunicorn worker, an application pm2 or `sh -c "uvicorn ..."` started), or when a
            // serving runtime started it.
            let server = server::serves(image, command_line)
                || (server::runtime(image)
                    && (chain.iter().any(|a| {
                        a.command_line.as_deref().is_some_and(server::serving_command_line)
                    }) || (parent_server
                        && event.get_str("ParentImage").is_some_and(server::runtime))));
            let node = Node {
                key: Arc::clone(&own),
                image: self.image(cut(image, MAX_IMAGE)),
                command_line: command_line.map(|c| cut(c, MAX_COMMAND_LINE).into()),
                parent,
                server,
                used: 0,
                queued: 0,
                time: event.time,
            };
            self.insert(own, node);
        }
        added
    }

    /// Any other event: see the module documentation.
    fn actor(&mut self, event: &mut Event) -> Added {
        if server::accepts_inbound(event) {
            self.accepted(event);
        }
        if let Some(id) = event.get_str("ContextProcessId") {
            let own = key(scope(event), &format!("f:{}", id.trim().to_ascii_lowercase()));
            return self.falcon_actor(event, &own);
        }
        if event.get_str("type") == Some("SYSCALL")
            && let (Some(pid), Some(exe)) = (event.get_str("pid"), event.get_str("exe"))
            && let Ok(pid) = pid.trim().parse::<i64>()
        {
            let own = key(scope(event), &format!("p:{pid}"));
            self.teach(own, exe, event.time);
            return Added::default();
        }
        // Sysmon's ProcessGuid, Defender's process id and start time, or a bare process id.
        let Some(own) = actor_key(event) else {
            return Added::default();
        };
        let own = key(scope(event), &own);
        let Some(parent) = self.nodes.get(own.as_str()).and_then(|n| n.parent.clone()) else {
            return Added::default();
        };
        let mut chain = self.ancestors(Some(parent), event.time);
        if chain.is_empty() {
            return Added::default();
        }
        insert_chain(event, &mut chain);
        Added { ancestors: true, ..Added::default() }
    }

    /// An event of a process accepting an inbound connection: the process is a server from now
    /// on (remembered with the event's image if the table did not know it).
    fn accepted(&mut self, event: &Event) {
        let Some(own) = actor_key(event) else { return };
        let own = key(scope(event), &own);
        if let Some(node) = self.nodes.get_mut(own.as_str()) {
            node.server = true;
            return;
        }
        let image =
            ["Image", "exe"].iter().find_map(|f| event.get_str(f).filter(|i| !i.is_empty()));
        if let Some(image) = image {
            self.remember_image(own, image, None, true, event.time);
        }
    }

    /// A Falcon event's acting process, known as `own`: its image (when the event has only its file
    /// name, which must agree) and command line. The table is not changed.
    fn falcon_actor(&mut self, event: &mut Event, own: &str) -> Added {
        let own: Arc<str> = self.shared_key(own.to_owned());
        let mut chain = self.ancestors(Some(own), event.time);
        let Some(process) = chain.first_mut() else { return Added::default() };
        let mut added = Added::default();
        match event.get_str("Image") {
            Some(name) if !name_only(name) => return added,
            Some(name) if !ends_with_ignore_case(&process.image, name) => return added,
            _ => {}
        }
        event.insert("Image", Value::Str(std::mem::take(&mut process.image)));
        added.image = true;
        if event.get("CommandLine").is_none()
            && let Some(line) = process.command_line.take()
        {
            event.insert("CommandLine", Value::Str(line));
            added.command_line = true;
        }
        added
    }

    /// An auditd `SYSCALL` record: process `own` runs `exe`. A process the table knows with
    /// that image is left as it is (with its parent and command line); otherwise `exe` replaces it.
    fn teach(&mut self, own: String, exe: &str, time: Option<Timestamp>) {
        if exe.is_empty()
            || self.nodes.get(own.as_str()).is_some_and(|node| *node.image == *cut(exe, MAX_IMAGE))
        {
            return;
        }
        if let Some(time) = time {
            self.newest = Some(self.newest.map_or(time, |n| n.max(time)));
        }
        self.remember_image(own, exe, None, server::known_server(exe), time);
    }

    /// Remembers a process known only by its image (no parent, no command line).
    fn remember_image(
        &mut self,
        own: String,
        image: &str,
        command_line: Option<&str>,
        server: bool,
        time: Option<Timestamp>,
    ) {
        let own: Arc<str> = own.into();
        let node = Node {
            key: Arc::clone(&own),
            image: self.image(cut(image, MAX_IMAGE)),
            command_line: command_line.map(|c| cut(c, MAX_COMMAND_LINE).into()),
            parent: None,
            server,
            used: 0,
            queued: 0,
            time,
        };
        self.insert(own, node);
    }

    /// The chain above `parent`, parent first, each ancestor marked as used at `time`.
    fn ancestors(&mut self, parent: Option<Arc<str>>, time: Option<Timestamp>) -> Vec<Ancestor> {
        let mut chain = Vec::new();
        let mut next = parent;
        let mut visited: Vec<*const u8> = Vec::new();
        while let Some(key) = next.take() {
            if chain.len() >= MAX_DEPTH {
                break;
            }
            let Some(node) = self.nodes.get_mut(&key) else { break };
            // Identity of the node's own key: a loop of parents ends at the first repeat.
            let at = node.key.as_ptr();
            if visited.contains(&at) {
                break;
            }
            visited.push(at);
            self.sequence += 1;
            node.used = self.sequence;
            if time > node.time {
                node.time = time;
            }
            chain.push(Ancestor {
                image: node.image.to_string(),
                command_line: node.command_line.as_deref().map(str::to_owned),
            });
            next = node.parent.clone();
        }
        self.evict();
        chain
    }

    /// The key as the table holds it (shared), or as given when the table does not know it.
    fn shared_key(&self, key: String) -> Arc<str> {
        match self.nodes.get_key_value(key.as_str()) {
            Some((known, _)) => Arc::clone(known),
            None => key.into(),
        }
    }

    /// The shared copy of an image path.
    fn image(&mut self, image: &str) -> Arc<str> {
        if let Some(known) = self.images.get(image) {
            return Arc::clone(known);
        }
        if self.images.len() >= MAX_IMAGES {
            self.images.clear();
        }
        let image: Arc<str> = image.into();
        self.images.insert(Arc::clone(&image));
        image
    }

    fn insert(&mut self, key: Arc<str>, mut node: Node) {
        self.sequence += 1;
        node.used = self.sequence;
        node.queued = self.sequence;
        self.bytes += node.bytes();
        if let Some(old) = self.nodes.insert(key.clone(), Box::new(node)) {
            self.bytes -= old.bytes();
        }
        self.order.push_back((self.sequence, key));
        self.evict();
    }

    /// Forgets the least recently used processes while over a limit, and idle ones.
    fn evict(&mut self) {
        let idle_before =
            self.newest.map(|newest| newest.as_second().saturating_sub(self.limits.max_idle));
        while let Some((sequence, key)) = self.order.front() {
            let over =
                self.nodes.len() > self.limits.max_processes || self.bytes > self.limits.max_bytes;
            let Some(node) = self.nodes.get_mut(key) else {
                self.order.pop_front();
                continue;
            };
            if node.queued != *sequence {
                self.order.pop_front();
                continue;
            }
            let idle = matches!((node.time, idle_before), (Some(t), Some(before)) if t.as_second() < before);
            if !over && !idle {
                break;
            }
            if node.used != *sequence && !idle {
                // Used since it was queued: to the back.
                self.sequence += 1;
                node.queued = self.sequence;
                node.used = self.sequence;
                let key = Arc::clone(&node.key);
                self.order.pop_front();
                self.order.push_back((self.sequence, key));
                continue;
            }
            self.bytes -= node.bytes();
            if !idle {
                self.forgotten += 1;
            }
            let key = Arc::clone(key);
            self.nodes.remove(&key);
            self.order.pop_front();
        }
        // Stale entries behind a live front: compact when the queue is much longer than the table.
        if self.order.len() > 4 * self.nodes.len().max(1024) {
            let nodes = &self.nodes;
            self.order
                .retain(|(sequence, key)| nodes.get(key).is_some_and(|n| n.queued == *sequence));
        }
    }
}

/// Sets `ParentIsServer` when [`parent_is_server`] says so; returns whether it did.
fn mark_parent_server(event: &mut Event, known: Option<(Arc<str>, bool)>) -> bool {
    let serving = parent_is_server(event, known);
    if serving {
        event.insert(server::PARENT_IS_SERVER, Value::Str("true".into()));
    }
    serving
}

/// Whether a process creation's parent is a server process: as the table knows it (`known`: its
/// image and flag, when the event's parent is that process), or from the event's own parent
/// image and command line.
fn parent_is_server(event: &Event, known: Option<(Arc<str>, bool)>) -> bool {
    let Some(image) = event.get_str("ParentImage").filter(|i| !i.is_empty()) else {
        return false;
    };
    let same =
        |known: &str| image.eq_ignore_ascii_case(known) || ends_with_ignore_case(known, image);
    known.is_some_and(|(known, server)| server && same(&known))
        || server::serves(image, event.get_str("ParentCommandLine"))
}

/// Adds the parent fields the event lacks and the ancestor lists; `chain` is what the table knows
/// above the event (its first element, if any, is the parent).
fn enrich(event: &mut Event, chain: &mut Vec<Ancestor>) -> Added {
    let mut added = Added::default();
    let own_parent_image =
        event.get_str("ParentImage").filter(|i| !i.is_empty()).map(str::to_owned);
    let own_parent_line = event.get_str("ParentCommandLine").map(str::to_owned);
    // The source's own parent disagreeing with the table's means the table's process is another
    // one (an id the table missed reusing): keep only what the source says.
    // A source that knows only the parent's file name (Falcon without the parent's event writes
    // `\w3wp.exe`) gets the full path.
    let mut own_parent_image = own_parent_image;
    if let (Some(image), Some(parent)) = (&own_parent_image, chain.first()) {
        if name_only(image) && ends_with_ignore_case(&parent.image, image) {
            own_parent_image = None;
        } else if !image.eq_ignore_ascii_case(&parent.image) {
            chain.clear();
        }
    }
    match chain.first_mut() {
        Some(parent) => {
            if let Some(image) = own_parent_image {
                parent.image = image;
            } else {
                event.insert("ParentImage", Value::Str(parent.image.clone()));
                added.parent_image = true;
            }
            match (own_parent_line, &parent.command_line) {
                (Some(line), _) => parent.command_line = Some(line),
                (None, Some(line)) => {
                    event.insert("ParentCommandLine", Value::Str(line.clone()));
                    added.parent_command_line = true;
                }
                (None, None) => {}
            }
        }
        None => match own_parent_image {
            Some(image) => chain.push(Ancestor { image, command_line: own_parent_line }),
            None => return added,
        },
    }
    insert_chain(event, chain);
    added.ancestors = true;
    added
}

/// Sets `AncestorImage` and (where any is known) `AncestorCommandLine` from `chain`.
fn insert_chain(event: &mut Event, chain: &mut [Ancestor]) {
    let images = chain.iter().map(|a| Value::Str(a.image.clone())).collect();
    event.insert("AncestorImage", Value::List(images));
    let lines: Vec<Value> =
        chain.iter().map(|a| a.command_line.clone().map_or(Value::Null, Value::Str)).collect();
    if lines.iter().any(|l| !l.is_null()) {
        event.insert("AncestorCommandLine", Value::List(lines));
    }
}

/// The event's process and parent identities (see the module documentation).
fn identity(event: &Event) -> Option<(String, Option<String>)> {
    let text = |name: &str| {
        event.get(name).filter(|v| !v.is_null()).map(|v| v.as_text().trim().to_ascii_lowercase())
    };
    let number = |name: &str| event.get(name).and_then(Value::as_i64).map(|n| n.to_string());
    let with_time = |id: &str, time: &str| Some(format!("{}@{}", number(id)?, text(time)?));
    if let Some(guid) = text("ProcessGuid") {
        let parent = text("ParentProcessGuid");
        return Some((sysmon_id(&guid), parent.as_deref().map(sysmon_id)));
    }
    if let Some(id) = text("TargetProcessId") {
        return Some((format!("f:{id}"), text("ParentProcessId").map(|p| format!("f:{p}"))));
    }
    if let Some(own) = with_time("ProcessId", "ProcessCreationTime") {
        let parent = with_time("InitiatingProcessId", "InitiatingProcessCreationTime");
        return Some((format!("d:{own}"), parent.map(|p| format!("d:{p}"))));
    }
    if let Some(id) = number("NewProcessId") {
        return Some((format!("p:{id}"), number("ProcessId").map(|p| format!("p:{p}"))));
    }
    let id = number("ProcessId")?;
    Some((format!("p:{id}"), number("ParentProcessId").map(|p| format!("p:{p}"))))
}

/// The identity of the process that acted in an event other than a process creation (see
/// [`identity`]).
fn actor_key(event: &Event) -> Option<String> {
    let text = |name: &str| {
        event.get(name).filter(|v| !v.is_null()).map(|v| v.as_text().trim().to_ascii_lowercase())
    };
    let number = |name: &str| event.get(name).and_then(Value::as_i64).map(|n| n.to_string());
    let with_time = |id: &str, time: &str| Some(format!("d:{}@{}", number(id)?, text(time)?));
    if let Some(id) = text("ContextProcessId") {
        return Some(format!("f:{id}"));
    }
    if let Some(guid) = text("ProcessGuid") {
        return Some(sysmon_id(&guid));
    }
    if let Some(id) = with_time("InitiatingProcessId", "InitiatingProcessCreationTime")
        .or_else(|| with_time("ProcessId", "ProcessCreationTime"))
    {
        return Some(id);
    }
    number("pid").or_else(|| number("ProcessId")).map(|pid| format!("p:{pid}"))
}

/// Whether an image is a file name only, perhaps after a separator (`\\w3wp.exe`, `/bash`), as
/// decoders write it when the source names a process by file name only.
fn name_only(image: &str) -> bool {
    image.len() > 1 && !image[1..].contains(['\\', '/'])
}

fn ends_with_ignore_case(text: &str, end: &str) -> bool {
    text.len() >= end.len()
        && text.is_char_boundary(text.len() - end.len())
        && text[text.len() - end.len()..].eq_ignore_ascii_case(end)
}

/// What process ids are unique within: the Falcon sensor (`aid`) for Falcon's ids, else the host.
fn scope(event: &Event) -> &str {
    if event.provenance.format == Format::FalconFdr
        && let Some(aid) = event.get_str("aid")
    {
        return aid;
    }
    event.host.as_deref().unwrap_or("")
}

/// The table's id of a Sysmon `ProcessGuid`: without braces, in lower case.
fn sysmon_id(guid: &str) -> String {
    format!("g:{}", guid.trim().trim_matches(|c| c == '{' || c == '}').to_ascii_lowercase())
}

fn key(host: &str, id: &str) -> String {
    let mut key = String::with_capacity(host.len() + 1 + id.len());
    key.push_str(&host.to_ascii_lowercase());
    key.push('\0');
    key.push_str(id);
    key
}

/// `text` cut to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[path = "lineage_stored.rs"]
mod stored;

pub use stored::LineageState;

#[cfg(test)]
#[path = "lineage_tests.rs"]
mod tests;
