//! The case runner of `rolewright simulate --cases`. Case files repeat the same policies across
//! many requests, and the same requests under many policies, so each distinct policy document is
//! compiled once per run, each distinct combination of documents is assembled into a policy set
//! once, and each distinct request text is built into a request once per worker
//! ([`super::request`]); every case is still decided on its own. JSON Lines files are streamed in
//! blocks, each block's cases are decided on all cores, and the results are written in the order
//! of the file.
//!
//! Cases the fast reader ([`super::reader`]) cannot vouch for, and every case whose
//! policies or principal do not read, go through the exact path that `--cases` always had
//! ([`EngineCase`] with serde), so results and messages are the same whichever path a case took.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::io::{Read as _, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};

use rolewright_iam::case::{CaseResult, EngineCase, parse_cases, rcp_full_aws_access};
use rolewright_iam::{
    ActionCatalog, CompiledPolicy, Decision, Outcome, PolicySet, PolicyType, parse_policy,
};
use serde_json::value::RawValue;

use super::reader::{CaseView, Doc, Known, read_case, read_whole_case};
use super::request::Requests;
use crate::Format;
use crate::validate::read_input;

/// What `--infer-wildcard-only` asks; shared by the threads.
pub type Catalog = &'static (dyn ActionCatalog + Sync);

/// JSON Lines files are read in blocks of about this size (cut at a line's end).
const BLOCK: usize = 512 << 10;

/// At most this many blocks are read and handed out ahead of the one being written.
const IN_FLIGHT: usize = 3;

/// Blocks are cut into chunks of about this size, which the workers take one at a time.
const CHUNK: usize = 16 << 10;

/// Cases of a JSON array file per chunk.
const CASES_PER_CHUNK: usize = 128;

/// The counts of the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Cases that met their expectation.
    pub passed: usize,
    /// Cases that did not, cases that could not be run, and files that are not case files.
    pub failed: usize,
    /// Discovery-mode cases.
    pub skipped: usize,
    /// Cases without an expectation.
    pub unchecked: usize,
}

impl std::ops::AddAssign for Totals {
    fn add_assign(&mut self, other: Totals) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.unchecked += other.unchecked;
    }
}

/// Standard output went away (`| head`): stop quietly, as command-line tools do.
#[derive(Debug)]
pub struct Gone;

impl From<std::io::Error> for Gone {
    fn from(_: std::io::Error) -> Self {
        Gone
    }
}

/// Runs case files one after the other, keeping what it compiled for the next file.
pub struct Runner {
    format: Format,
    catalog: Option<Catalog>,
    library: Mutex<Library>,
    workers: Vec<Worker>,
    totals: Totals,
    /// Output buffers and block buffers, kept from file to file.
    buffers: Buffers,
    spare: Arc<Buffers>,
}

impl Runner {
    /// A runner printing in `format`, asking `catalog` about wildcard-only actions when a case
    /// does not say.
    pub fn new(format: Format, catalog: Option<Catalog>) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        Runner {
            format,
            catalog,
            library: Mutex::new(Library::default()),
            workers: (0..threads).map(|_| Worker::default()).collect(),
            totals: Totals::default(),
            buffers: Mutex::new(Vec::new()),
            spare: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The counts so far.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Runs one case file, writing results to `out` and messages to standard error.
    pub fn run_file(&mut self, path: &Path, out: &mut impl Write) -> Result<(), Gone> {
        let shown = path.display().to_string();
        let job = Job {
            line_start: format!("{{\"file\":{},\"name\":", json_string(&shown)),
            shown,
            format: self.format,
            catalog: self.catalog,
        };
        self.stream(path, &job, out)
    }

    /// JSON Lines, block by block: while the workers decide one block, the calling thread reads
    /// the next. A file whose first case line does not read as a case (an array, one
    /// pretty-printed case, an error) is read whole instead, as `--cases` always read files.
    fn stream(&mut self, path: &Path, job: &Job, out: &mut impl Write) -> Result<(), Gone> {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                let message = format!("cannot read `{}`: {e}", job.shown);
                return not_a_case_file(&mut self.totals, job, &message, out);
            }
        };
        let Runner {
            library,
            workers,
            totals,
            buffers,
            spare,
            ..
        } = self;
        let Some((first, helpers)) = workers.split_first_mut() else {
            return Ok(());
        };
        let (tasks, inbox) = mpsc::channel::<Arc<BlockTask>>();
        let inbox = Mutex::new(inbox);
        // The helpers, once started, live as long as the file: each block is handed to them
        // through the channel, and they leave when it closes at the end of the scope.
        let streamed = std::thread::scope(|scope| {
            let mut crew = Crew {
                scope,
                idle: Some(helpers),
                started: 0,
                tasks,
                inbox: &inbox,
                job,
                library,
                buffers: &*buffers,
            };
            let mut blocks = Blocks {
                file,
                job,
                worker: first,
                library,
                buffers: &*buffers,
                spare: &*spare,
                totals,
            };
            blocks.run(&mut crew, out)
        });
        match streamed {
            Ok(Streamed::Done) => Ok(()),
            Ok(Streamed::WholeFile) => self.whole_file(path, job, out),
            Err(gone) => Err(gone),
        }
    }

    /// A whole file in memory: a JSON array of cases is run on the fast path when every case in
    /// it reads; anything else is read by `parse_cases`, whose message a broken file gets.
    fn whole_file(&mut self, path: &Path, job: &Job, out: &mut impl Write) -> Result<(), Gone> {
        let text = match read_input(path) {
            Ok(text) => text,
            Err(e) => return self.not_a_case_file(job, &e, out),
        };
        if text.trim_start().starts_with('[')
            && let Ok(cases) = serde_json::from_str::<Vec<&RawValue>>(&text)
        {
            let chunks: Vec<&[&RawValue]> = cases.chunks(CASES_PER_CHUNK).collect();
            let (parts, ()) = self.parallel(
                &chunks,
                |worker, library, chunk| worker.run_cases(chunk, job, library),
                || (),
            );
            if parts.iter().all(|p| p.stop.is_none()) {
                for part in &parts {
                    self.write_part(part, out)?;
                }
                return Ok(());
            }
        }
        match parse_cases(&text) {
            Ok(cases) => {
                let mut part = Part::default();
                for case in &cases {
                    run_exact(case, job, &mut part);
                }
                self.write_part(&part, out)
            }
            Err(e) => self.not_a_case_file(job, &e, out),
        }
    }

    fn not_a_case_file(
        &mut self,
        job: &Job,
        error: &str,
        out: &mut impl Write,
    ) -> Result<(), Gone> {
        not_a_case_file(&mut self.totals, job, error, out)
    }

    fn write_part(&mut self, part: &Part, out: &mut impl Write) -> Result<(), Gone> {
        write_part(&mut self.totals, part, out)
    }

    /// Runs `work` on every chunk, on all workers, each taking the next chunk not yet taken;
    /// meanwhile the calling thread first does `aside` (reading the next block), then joins in.
    /// The parts come back in the order of the chunks.
    fn parallel<T: Sync, R>(
        &mut self,
        chunks: &[T],
        work: impl Fn(&mut Worker, &Mutex<Library>, &T) -> Part + Sync,
        aside: impl FnOnce() -> R,
    ) -> (Vec<Part>, R) {
        let library = &self.library;
        let taken = AtomicUsize::new(0);
        let take_all = |worker: &mut Worker| {
            let mut done = Vec::new();
            loop {
                let i = taken.fetch_add(1, Ordering::Relaxed);
                let Some(chunk) = chunks.get(i) else {
                    return done;
                };
                done.push((i, work(worker, library, chunk)));
            }
        };
        let (first, helpers) = match self.workers.split_first_mut() {
            Some((first, helpers)) if chunks.len() > 1 => (first, helpers),
            Some((first, _)) => {
                let aside = aside();
                let parts = take_all(first).into_iter().map(|(_, part)| part).collect();
                return (parts, aside);
            }
            None => return (Vec::new(), aside()),
        };
        let (mut done, aside) = std::thread::scope(|scope| {
            let handles: Vec<_> = helpers
                .iter_mut()
                .take(chunks.len() - 1)
                .map(|worker| scope.spawn(|| take_all(worker)))
                .collect();
            let aside = aside();
            let mut done = take_all(first);
            for handle in handles {
                match handle.join() {
                    Ok(more) => done.extend(more),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            (done, aside)
        });
        done.sort_unstable_by_key(|(i, _)| *i);
        (done.into_iter().map(|(_, part)| part).collect(), aside)
    }
}

fn not_a_case_file(
    totals: &mut Totals,
    job: &Job,
    error: &str,
    out: &mut impl Write,
) -> Result<(), Gone> {
    out.flush()?;
    let _ = writeln!(
        std::io::stderr().lock(),
        "error: `{}` is not a case file: {error}",
        job.shown
    );
    totals.failed += 1;
    Ok(())
}

fn write_part(totals: &mut Totals, part: &Part, out: &mut impl Write) -> Result<(), Gone> {
    out.write_all(&part.out)?;
    if !part.err.is_empty() {
        out.flush()?;
        let _ = std::io::stderr().lock().write_all(&part.err);
    }
    *totals += part.totals;
    Ok(())
}

/// How streaming a file ended.
enum Streamed {
    Done,
    /// The file is not JSON Lines: it is to be read whole.
    WholeFile,
}

/// One block of a JSON Lines file, cut into chunks that the workers take one at a time.
struct BlockTask {
    bytes: Vec<u8>,
    chunks: Vec<std::ops::Range<usize>>,
    taken: AtomicUsize,
    done: Mutex<Vec<(usize, Part)>>,
    finished: Condvar,
    /// Where the block's buffer goes when the last thread holding the task lets go of it.
    spare: Arc<Buffers>,
}

impl Drop for BlockTask {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        self.spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(bytes);
    }
}

impl BlockTask {
    /// Decides chunks until none is left.
    fn work(&self, worker: &mut Worker, job: &Job, library: &Mutex<Library>, buffers: &Buffers) {
        while self.work_one(worker, job, library, buffers) {}
    }

    /// Decides the next chunk not taken yet; `false` when none is left.
    fn work_one(
        &self,
        worker: &mut Worker,
        job: &Job,
        library: &Mutex<Library>,
        buffers: &Buffers,
    ) -> bool {
        let i = self.taken.fetch_add(1, Ordering::Relaxed);
        let Some(chunk) = self.chunks.get(i).and_then(|r| self.bytes.get(r.clone())) else {
            return false;
        };
        let part = worker.run_lines(chunk, job, library, buffers);
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        done.push((i, part));
        if done.len() == self.chunks.len() {
            self.finished.notify_all();
        }
        true
    }

    /// Waits until every chunk has been decided.
    fn parts_ready(&self) {
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        while done.len() < self.chunks.len() {
            done = self
                .finished
                .wait(done)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Whether every chunk has been decided.
    fn is_finished(&self) -> bool {
        self.done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
            == self.chunks.len()
    }

    /// Waits for every chunk; the parts in the order of the chunks.
    fn parts(&self) -> Vec<Part> {
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        while done.len() < self.chunks.len() {
            done = self
                .finished
                .wait(done)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let mut parts = std::mem::take(&mut *done);
        parts.sort_unstable_by_key(|(i, _)| *i);
        parts.into_iter().map(|(_, part)| part).collect()
    }
}

/// Output buffers, or block buffers, used again block after block: new ones would have the
/// allocator take fresh memory, which the system then has to clear.
type Buffers = Mutex<Vec<Vec<u8>>>;

/// The helper threads of a file, started when a block first has more than one chunk.
struct Crew<'scope, 'env> {
    scope: &'scope std::thread::Scope<'scope, 'env>,
    idle: Option<&'env mut [Worker]>,
    started: usize,
    tasks: mpsc::Sender<Arc<BlockTask>>,
    inbox: &'env Mutex<mpsc::Receiver<Arc<BlockTask>>>,
    job: &'env Job,
    library: &'env Mutex<Library>,
    buffers: &'env Buffers,
}

impl Crew<'_, '_> {
    fn hand(&mut self, task: &Arc<BlockTask>) {
        if task.chunks.len() < 2 {
            return;
        }
        for worker in self.idle.take().into_iter().flatten() {
            let (inbox, job, library, buffers) = (self.inbox, self.job, self.library, self.buffers);
            self.scope.spawn(move || {
                loop {
                    let next = inbox.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok(task) = next else {
                        return;
                    };
                    task.work(worker, job, library, buffers);
                }
            });
            self.started += 1;
        }
        for _ in 0..self.started.min(task.chunks.len() - 1) {
            let _ = self.tasks.send(Arc::clone(task));
        }
    }
}

/// Reading a JSON Lines file block by block, on the calling thread's worker.
struct Blocks<'a> {
    file: std::fs::File,
    job: &'a Job,
    worker: &'a mut Worker,
    library: &'a Mutex<Library>,
    buffers: &'a Buffers,
    /// Block buffers to read into.
    spare: &'a Arc<Buffers>,
    totals: &'a mut Totals,
}

impl Blocks<'_> {
    /// Reads, decides and writes the file's blocks. Up to [`IN_FLIGHT`] blocks are handed out
    /// at a time, and this thread takes chunks from the oldest that has some left: when a
    /// helper is slow to finish its chunk of one block (its core taken by another process),
    /// this thread goes on with the next instead of waiting. Results are written block by
    /// block, in the order of the file.
    fn run(&mut self, crew: &mut Crew<'_, '_>, out: &mut impl Write) -> Result<Streamed, Gone> {
        let job = self.job;
        let cannot_read = |e: &dyn std::fmt::Display| format!("cannot read `{}`: {e}", job.shown);
        // Bytes read but not handed out yet (they start with the end of the last block's last
        // line).
        let mut pending: Vec<u8> = Vec::with_capacity(BLOCK + (64 << 10));
        let mut flight: VecDeque<Arc<BlockTask>> = VecDeque::with_capacity(IN_FLIGHT);
        // The first block is small, so that the workers start early.
        let (mut eof, mut first) = (false, true);
        let (mut line, mut started) = (1usize, false);
        loop {
            while flight.len() < IN_FLIGHT && !(eof && pending.is_empty()) {
                let target = if first { BLOCK / 16 } else { BLOCK };
                first = false;
                if !eof {
                    eof = match fill(&mut self.file, &mut pending, target) {
                        Ok(eof) => eof,
                        Err(e) => return self.stop(&cannot_read(&e), out),
                    };
                }
                let spare = self
                    .spare
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop();
                let mut buffer = spare.unwrap_or_default();
                let task = match self.task(&mut pending, &mut buffer, &mut eof) {
                    Ok(task) => task,
                    Err(e) => return self.stop(&cannot_read(&e), out),
                };
                crew.hand(&task);
                flight.push_back(task);
            }
            let worked = flight
                .iter()
                .any(|task| task.work_one(self.worker, job, self.library, self.buffers));
            while flight.front().is_some_and(|task| task.is_finished()) {
                let Some(task) = flight.pop_front() else {
                    break;
                };
                let parts = task.parts();
                for part in &parts {
                    let first_case = !started && part.run == 0;
                    if first_case && (part.first_is_array || part.stop.is_some()) {
                        return Ok(Streamed::WholeFile);
                    }
                    started |= part.run > 0;
                    write_part(self.totals, part, out)?;
                    match &part.stop {
                        Some(Stop::NotACase { line: at, error }) => {
                            return self.stop(&format!("line {}: {error}", line + at), out);
                        }
                        Some(Stop::NotUtf8) => {
                            let message = cannot_read(&"stream did not contain valid UTF-8");
                            return self.stop(&message, out);
                        }
                        None => line += part.lines,
                    }
                }
                self.buffers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend(parts.into_iter().map(|part| part.out));
            }
            if flight.is_empty() && eof && pending.is_empty() {
                return Ok(Streamed::Done);
            }
            if !worked && let Some(front) = flight.front() {
                // Every chunk handed out is taken, and no more can be read (the file is read,
                // or enough blocks are out): wait for the oldest block's last one.
                front.parts_ready();
            }
        }
    }

    /// Cuts the whole lines of `pending` into a task, reading on when not even one line is
    /// there; the rest of the last line is left in `pending`, which `spare` becomes.
    fn task(
        &mut self,
        pending: &mut Vec<u8>,
        spare: &mut Vec<u8>,
        eof: &mut bool,
    ) -> std::io::Result<Arc<BlockTask>> {
        let cut = loop {
            if *eof {
                break pending.len();
            }
            if let Some(newline) = pending.iter().rposition(|&b| b == b'\n') {
                break newline + 1;
            }
            // A line longer than a block: read on until it ends.
            let target = pending.len() + BLOCK;
            *eof = fill(&mut self.file, pending, target)?;
        };
        spare.clear();
        spare.extend_from_slice(&pending[cut..]);
        pending.truncate(cut);
        let bytes = std::mem::replace(pending, std::mem::take(spare));
        Ok(Arc::new(BlockTask {
            chunks: chunks_of_lines(&bytes),
            bytes,
            taken: AtomicUsize::new(0),
            done: Mutex::new(Vec::new()),
            finished: Condvar::new(),
            spare: Arc::clone(self.spare),
        }))
    }

    fn stop(&mut self, error: &str, out: &mut impl Write) -> Result<Streamed, Gone> {
        not_a_case_file(self.totals, self.job, error, out)?;
        Ok(Streamed::Done)
    }
}

/// Reads from `file` onto the end of `buf` until it holds `target` bytes or the file ends;
/// returns whether it ended.
fn fill(file: &mut std::fs::File, buf: &mut Vec<u8>, target: usize) -> std::io::Result<bool> {
    // Room for all of it first: a buffer grown as it fills is copied each time it grows.
    buf.reserve(target.saturating_sub(buf.len()));
    while buf.len() < target {
        let want = (target - buf.len()) as u64;
        if (file.take(want).read_to_end(buf)? as u64) < want {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A block cut into chunks of about [`CHUNK`] bytes, each ending just after a newline (the last
/// one where the block ends).
fn chunks_of_lines(block: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut chunks = Vec::with_capacity(block.len() / CHUNK + 1);
    let mut start = 0;
    while start < block.len() {
        let end = match block
            .get(start + CHUNK..)
            .and_then(|after| after.iter().position(|&b| b == b'\n'))
        {
            Some(newline) => start + CHUNK + newline + 1,
            None => block.len(),
        };
        chunks.push(start..end);
        start = end;
    }
    chunks
}

/// Skips spaces, tabs and carriage returns: the whitespace a line may have around its case.
fn skip_blanks(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// The line starting at `start` as `str::lines` returns it (without its `\n` and then its
/// `\r`), and where the next line starts.
fn line_at(text: &str, start: usize) -> (&str, usize) {
    let rest = text.get(start..).unwrap_or_default();
    match rest.split_once('\n') {
        Some((line, _)) => (
            line.strip_suffix('\r').unwrap_or(line),
            start + line.len() + 1,
        ),
        None => (rest, text.len()),
    }
}

/// What every case of one file shares.
struct Job {
    shown: String,
    /// How each JSON line of the file starts: `{"file":` and `shown` as a JSON string, then
    /// `,"name":`.
    line_start: String,
    format: Format,
    catalog: Option<Catalog>,
}

/// The results of a run of consecutive cases, to be written in order.
#[derive(Default)]
struct Part {
    out: Vec<u8>,
    err: Vec<u8>,
    totals: Totals,
    /// How many cases were run.
    run: usize,
    /// How many lines the chunk has (JSON Lines).
    lines: usize,
    /// The chunk's first case line starts with `[`: the file may be one JSON array.
    first_is_array: bool,
    /// What stopped the chunk before its end.
    stop: Option<Stop>,
}

/// Why a chunk stopped.
enum Stop {
    /// The case on this line (counted from the chunk's first line, 0-based) is not a case.
    NotACase { line: usize, error: String },
    /// The chunk is not UTF-8.
    NotUtf8,
}

/// Compiled documents and assembled policy sets, shared by the workers.
#[derive(Default)]
struct Library {
    documents: HashMap<Box<str>, Document, TextHash>,
    policies: Vec<CompiledPolicy>,
    sets: HashMap<Box<[u32]>, Arc<PolicySet>, TextHash>,
}

/// A policy document's text, once checked.
#[derive(Debug, Clone, Copy)]
enum Document {
    /// Valid JSON and a valid policy: `Library::policies[i]`.
    Compiled(u32),
    /// Cases with it take the exact path, which reports why.
    Invalid,
}

impl Library {
    /// Checks and compiles a document the first time its text is seen. The check is the one
    /// serde makes of a `Box<RawValue>` field, then the policy reader's.
    fn document(&mut self, text: &str) -> Document {
        if let Some(&document) = self.documents.get(text) {
            return document;
        }
        let id = u32::try_from(self.policies.len())
            .ok()
            .filter(|&id| id < LEVEL);
        let document = match (id, serde_json::from_str::<&RawValue>(text)) {
            (Some(id), Ok(_)) => match parse_policy(text, PolicyType::Generic).document {
                Some(doc) => {
                    self.policies.push(CompiledPolicy::new(&doc));
                    Document::Compiled(id)
                }
                None => Document::Invalid,
            },
            _ => Document::Invalid,
        };
        self.documents.insert(text.into(), document);
        document
    }

    /// The policy set for `key` (see [`Worker::policy_set`]), named as `EngineCase::prepare`
    /// names its policies.
    fn policy_set(&mut self, key: &[u32]) -> Option<Arc<PolicySet>> {
        if let Some(set) = self.sets.get(key) {
            return Some(Arc::clone(set));
        }
        let mut groups = key.split(|&k| k == GROUP);
        let mut next = || groups.next().unwrap_or_default();
        let mut set = PolicySet::new();
        for (i, &id) in next().iter().enumerate() {
            set = set.with_identity(self.named(id, format!("identityPolicies[{i}]"))?);
        }
        for &id in next() {
            set = set.with_resource(self.named(id, "resourcePolicy".to_string())?);
        }
        for (i, &id) in next().iter().enumerate() {
            set = set.with_boundary(self.named(id, format!("permissionBoundaries[{i}]"))?);
        }
        for &id in next() {
            set = set.with_session(self.named(id, "sessionPolicy".to_string())?);
        }
        for (l, level) in levels(next()).enumerate() {
            let level = level
                .iter()
                .enumerate()
                .map(|(i, &id)| {
                    self.named(id, format!("serviceControlPolicies[{l}].policies[{i}]"))
                })
                .collect::<Option<Vec<_>>>()?;
            set = set.with_scp_level(level);
        }
        for (l, level) in levels(next()).enumerate() {
            let mut level = level
                .iter()
                .enumerate()
                .map(|(i, &id)| {
                    self.named(id, format!("resourceControlPolicies[{l}].policies[{i}]"))
                })
                .collect::<Option<Vec<_>>>()?;
            // AWS attaches `RCPFullAWSAccess` to every level of an organization with RCPs enabled.
            level.push(rcp_full_aws_access());
            set = set.with_rcp_level(level);
        }
        for (i, &id) in next().iter().enumerate() {
            set = set.with_endpoint(self.named(id, format!("endpointPolicies[{i}]"))?);
        }
        let set = Arc::new(set);
        self.sets.insert(key.into(), Arc::clone(&set));
        Some(set)
    }

    fn named(&self, id: u32, name: String) -> Option<CompiledPolicy> {
        let policy = self.policies.get(usize::try_from(id).ok()?)?;
        Some(policy.clone().with_name(name))
    }
}

/// Ends each group of a policy set's key: identity, resource, boundaries, session, SCP levels,
/// RCP levels, endpoints.
const GROUP: u32 = u32::MAX;
/// Ends each organization level within the SCP and RCP groups.
const LEVEL: u32 = u32::MAX - 1;

/// The levels of a key's SCP or RCP group: each ends with [`LEVEL`].
fn levels(group: &[u32]) -> impl Iterator<Item = &[u32]> {
    group
        .split_inclusive(|&k| k == LEVEL)
        .map(|level| level.strip_suffix(&[LEVEL]).unwrap_or(level))
}

/// One thread's view of the library: its own copies of the lookups, so that the shared one is
/// locked only when a thread sees a document or a combination for the first time. Aligned so
/// that two workers never share a cache line: each writes to its own for every case.
#[repr(align(128))]
#[derive(Default)]
struct Worker {
    known: Known,
    /// The sets this worker has used, by key, as indexes into `set_list`.
    sets: HashMap<Box<[u32]>, usize, TextHash>,
    set_list: Vec<Arc<PolicySet>>,
    key: Vec<u32>,
    requests: Requests,
}

impl Worker {
    /// Runs the case lines of a chunk of a JSON Lines file. The fast reader reads each case
    /// straight from the chunk and the line's end is checked after it; a line it does not read
    /// is cut out as `str::lines` cuts lines and handed to [`Worker::line`].
    fn run_lines(
        &mut self,
        chunk: &[u8],
        job: &Job,
        library: &Mutex<Library>,
        buffers: &Buffers,
    ) -> Part {
        // Output buffers are used again block after block: a new one for every chunk would have
        // the allocator return memory to the system and fault it in again.
        let mut out = buffers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        out.clear();
        out.reserve(chunk.len() / 2);
        let mut part = Part {
            out,
            ..Part::default()
        };
        let Ok(text) = std::str::from_utf8(chunk) else {
            part.stop = Some(Stop::NotUtf8);
            return part;
        };
        let bytes = text.as_bytes();
        let mut view = CaseView::default();
        let mut at = 0;
        while at < bytes.len() {
            let start = at;
            let first = skip_blanks(bytes, at);
            match bytes.get(first) {
                Some(b'\n') => {
                    part.lines += 1;
                    at = first + 1;
                    continue;
                }
                None => {
                    part.lines += 1;
                    break;
                }
                Some(b'{') => {
                    if let Ok(end) = read_case(text, first, &mut view, &self.known) {
                        let after = skip_blanks(bytes, end);
                        let ends_line = matches!(bytes.get(after), None | Some(b'\n'));
                        if ends_line && self.fast(&mut view, job, library, &mut part) {
                            part.lines += 1;
                            part.run += 1;
                            at = after + 1;
                            continue;
                        }
                    }
                }
                Some(_) => {}
            }
            let (line, next) = line_at(text, start);
            let index = part.lines;
            part.lines += 1;
            at = next;
            if let Err(error) = self.line(line, &mut view, job, library, &mut part) {
                part.stop = Some(Stop::NotACase { line: index, error });
                break;
            }
        }
        part
    }

    /// Runs the cases of a chunk of a JSON array.
    fn run_cases(&mut self, chunk: &[&RawValue], job: &Job, library: &Mutex<Library>) -> Part {
        let mut part = Part::default();
        let mut view = CaseView::default();
        for case in chunk {
            if let Err(error) = self.case(case.get(), &mut view, job, library, &mut part) {
                part.stop = Some(Stop::NotACase { line: 0, error });
                break;
            }
        }
        part
    }

    /// A line of a JSON Lines file as `parse_cases` reads it: blank lines are skipped, and the
    /// first case line tells whether the file may be one JSON array.
    fn line<'a>(
        &mut self,
        line: &'a str,
        view: &mut CaseView<'a>,
        job: &Job,
        library: &Mutex<Library>,
        part: &mut Part,
    ) -> Result<(), String> {
        if line.trim().is_empty() {
            return Ok(());
        }
        if part.run == 0 && line.trim_start().starts_with('[') {
            part.first_is_array = true;
        }
        self.case(line, view, job, library, part)
    }

    /// Runs one case: on the fast path when it reads there, else on the exact path; fails with
    /// serde's message when the text is not a case at all.
    fn case<'a>(
        &mut self,
        text: &'a str,
        view: &mut CaseView<'a>,
        job: &Job,
        library: &Mutex<Library>,
        part: &mut Part,
    ) -> Result<(), String> {
        if read_whole_case(text, view, &self.known).is_err() || !self.fast(view, job, library, part)
        {
            let case = serde_json::from_str::<EngineCase>(text).map_err(|e| e.to_string())?;
            run_exact(&case, job, part);
        }
        part.run += 1;
        Ok(())
    }

    /// Decides and writes a case read by the fast reader, building its request as
    /// `EngineCase::prepare_with` does; `false` when the case must take the exact path instead
    /// (Discovery mode, a policy or principal that does not read).
    fn fast(
        &mut self,
        view: &mut CaseView<'_>,
        job: &Job,
        library: &Mutex<Library>,
        part: &mut Part,
    ) -> bool {
        if view.discovery {
            return false;
        }
        let Some(set) = self.policy_set(view, library) else {
            return false;
        };
        let Some(request) = self
            .requests
            .get(view, job.catalog, &mut self.known.requests)
        else {
            return false;
        };
        // Borrowed, not cloned: an `Arc` clone per case would write to memory both threads read.
        let Some(set) = self.set_list.get(set) else {
            return false;
        };
        // Only the outcome and `blockedBy` are printed: the matched statements are not listed.
        let decision = set.evaluate_brief(request);
        write_decided(view, &decision, job, part);
        true
    }

    /// The index in `set_list` of the set of a case's documents. Its key lists the documents'
    /// ids group by group, so two cases with the same documents in the same places share one
    /// set.
    fn policy_set(&mut self, view: &CaseView<'_>, library: &Mutex<Library>) -> Option<usize> {
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        let index = self.fill_key(view, library, &mut key).and_then(|()| {
            if let Some(&index) = self.sets.get(key.as_slice()) {
                return Some(index);
            }
            let set = lock(library).policy_set(&key)?;
            self.set_list.push(set);
            let index = self.set_list.len() - 1;
            self.sets.insert(key.as_slice().into(), index);
            Some(index)
        });
        self.key = key;
        index
    }

    fn fill_key(
        &mut self,
        view: &CaseView<'_>,
        library: &Mutex<Library>,
        key: &mut Vec<u32>,
    ) -> Option<()> {
        for doc in &view.identity {
            key.push(self.document(doc, library)?);
        }
        key.push(GROUP);
        if let Some(doc) = &view.resource_policy {
            key.push(self.document(doc, library)?);
        }
        key.push(GROUP);
        for doc in &view.boundaries {
            key.push(self.document(doc, library)?);
        }
        key.push(GROUP);
        if let Some(doc) = &view.session {
            key.push(self.document(doc, library)?);
        }
        key.push(GROUP);
        for (docs, counts) in [
            (&view.scp_docs, &view.scp_levels),
            (&view.rcp_docs, &view.rcp_levels),
        ] {
            let mut docs = docs.iter();
            for &count in counts {
                for doc in docs.by_ref().take(count) {
                    key.push(self.document(doc, library)?);
                }
                key.push(LEVEL);
            }
            key.push(GROUP);
        }
        for doc in &view.endpoints {
            key.push(self.document(doc, library)?);
        }
        Some(())
    }

    /// A document's id: the reader found most among the known documents; the others are looked
    /// up by text (and compiled the first time in the run), then become known.
    fn document(&mut self, doc: &Doc<'_>, library: &Mutex<Library>) -> Option<u32> {
        if let Some(id) = doc.known {
            return Some(id);
        }
        let id = self.document_by_text(doc.text, library)?;
        self.known.documents.insert(doc.text, id);
        Some(id)
    }

    fn document_by_text(&mut self, text: &str, library: &Mutex<Library>) -> Option<u32> {
        // Rare: a worker looks a document up here once, then the reader knows it.
        match lock(library).document(text) {
            Document::Compiled(id) => Some(id),
            Document::Invalid => None,
        }
    }
}

fn lock(library: &Mutex<Library>) -> std::sync::MutexGuard<'_, Library> {
    // A worker that panicked leaves the library as consistent as before: entries are inserted
    // whole.
    library.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Judges and writes a case decided on the fast path, exactly as [`run_exact`] would.
fn write_decided(view: &CaseView<'_>, decision: &Decision, job: &Job, part: &mut Part) {
    // The codes as a sorted set, as `EngineCase::judge` compares them; usually there are none.
    let mut blocked_by: Vec<&'static str> = Vec::new();
    if !decision.blocked_by.is_empty() {
        blocked_by.extend(decision.blocked_by.iter().map(|k| k.code()));
        blocked_by.sort_unstable();
        blocked_by.dedup();
    }
    let pass = view.has_expected.then(|| {
        let same_codes = if view.blocked_by.is_empty() || blocked_by.is_empty() {
            view.blocked_by.is_empty() && blocked_by.is_empty()
        } else {
            let mut expected: Vec<&str> = view.blocked_by.iter().map(|c| c.as_ref()).collect();
            expected.sort_unstable();
            expected.dedup();
            expected == blocked_by
        };
        view.response.as_deref() == Some(decision.outcome.as_str()) && same_codes
    });
    match pass {
        Some(true) => part.totals.passed += 1,
        Some(false) => part.totals.failed += 1,
        None => part.totals.unchecked += 1,
    }
    match job.format {
        Format::Human => {
            if pass == Some(false) {
                let _ = writeln!(
                    part.err,
                    "FAIL {} :: {} => {} {blocked_by:?}, expected {} {:?}",
                    job.shown,
                    view.name,
                    decision.outcome,
                    view.response.as_deref().unwrap_or("?"),
                    view.blocked_by,
                );
            }
        }
        Format::Json => {
            let out = &mut part.out;
            out.extend_from_slice(job.line_start.as_bytes());
            match &view.name {
                // The fast reader borrows only strings without escapes, quotes or control
                // characters: written as they are, they are what serde_json writes.
                Cow::Borrowed(name) => {
                    out.push(b'"');
                    out.extend_from_slice(name.as_bytes());
                    out.push(b'"');
                }
                Cow::Owned(name) => write_json_string(out, name),
            }
            out.extend_from_slice(decision_json(decision.outcome));
            for (i, code) in blocked_by.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_string(out, code);
            }
            out.extend_from_slice(match pass {
                Some(true) => b"],\"pass\":true}\n",
                Some(false) => b"],\"pass\":false}\n",
                None => b"],\"pass\":null}\n",
            });
        }
    }
}

/// `,"decision":"…","blockedBy":[` for an outcome, in one piece.
fn decision_json(outcome: Outcome) -> &'static [u8] {
    match outcome {
        Outcome::Allowed => b",\"decision\":\"Allowed\",\"blockedBy\":[",
        Outcome::ImplicitlyDenied => b",\"decision\":\"ImplicitlyDenied\",\"blockedBy\":[",
        Outcome::ExplicitlyDenied => b",\"decision\":\"ExplicitlyDenied\",\"blockedBy\":[",
    }
}

/// Runs a case read by serde and writes its result: the path every case took before the fast
/// path existed, kept word for word for the cases the fast path hands back.
fn run_exact(case: &EngineCase, job: &Job, part: &mut Part) {
    let shown = &job.shown;
    let catalog = job.catalog.map(|c| c as &dyn ActionCatalog);
    let result = case.run_with(catalog);
    let line = match &result {
        CaseResult::Decided {
            outcome,
            blocked_by,
            pass,
        } => {
            match pass {
                Some(true) => part.totals.passed += 1,
                Some(false) => part.totals.failed += 1,
                None => part.totals.unchecked += 1,
            }
            if job.format == Format::Human && *pass == Some(false) {
                let expected = case.expected.as_ref();
                let _ = writeln!(
                    part.err,
                    "FAIL {shown} :: {} => {outcome} {blocked_by:?}, expected {} {:?}",
                    case.name,
                    expected.and_then(|e| e.response.as_deref()).unwrap_or("?"),
                    expected
                        .and_then(|e| e.blocked_by.clone())
                        .unwrap_or_default()
                );
            }
            serde_json::json!({
                "file": shown, "name": case.name, "decision": outcome.as_str(),
                "blockedBy": blocked_by, "pass": pass,
            })
        }
        CaseResult::Skipped => {
            part.totals.skipped += 1;
            serde_json::json!({
                "file": shown, "name": case.name, "decision": null,
                "blockedBy": [], "pass": null, "skipped": "Discovery mode is not an AWS decision",
            })
        }
        CaseResult::Invalid(e) => {
            part.totals.failed += 1;
            if job.format == Format::Human {
                let _ = writeln!(part.err, "FAIL {shown} :: {} => {e}", case.name);
            }
            serde_json::json!({
                "file": shown, "name": case.name, "decision": null,
                "blockedBy": [], "pass": false, "error": e,
            })
        }
    };
    if job.format == Format::Json {
        let _ = writeln!(part.out, "{line}");
    }
}

/// `text` as a JSON string, escaped as serde_json escapes it.
fn json_string(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() + 2);
    write_json_string(&mut out, text);
    String::from_utf8(out).unwrap_or_default()
}

fn write_json_string(out: &mut Vec<u8>, text: &str) {
    if text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        let _ = serde_json::to_writer(&mut *out, text);
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// A fast hash for the lookups of document texts and set keys: eight bytes at a time, with a
/// final mix so that the low bits a hash table indexes by depend on every byte. Texts come from
/// the user's own files, so resistance to crafted collisions is not needed.
#[derive(Debug, Default, Clone, Copy)]
pub struct TextHash;

impl BuildHasher for TextHash {
    type Hasher = TextHasher;

    fn build_hasher(&self) -> TextHasher {
        TextHasher(0)
    }
}

pub struct TextHasher(u64);

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for TextHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Two lanes of eight bytes each, so that the two multiplications overlap.
        let word = |chunk: &[u8]| {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            u64::from_le_bytes(word)
        };
        let (mut a, mut b) = (self.0, self.0 ^ bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(16);
        for chunk in &mut chunks {
            let (x, y) = chunk.split_at(8);
            a = (a.rotate_left(23) ^ word(x)).wrapping_mul(MULTIPLIER);
            b = (b.rotate_left(23) ^ word(y)).wrapping_mul(MULTIPLIER);
        }
        let rest = chunks.remainder();
        let (x, y) = rest.split_at(rest.len().min(8));
        a = (a.rotate_left(23) ^ word(x)).wrapping_mul(MULTIPLIER);
        b = (b.rotate_left(23) ^ word(y)).wrapping_mul(MULTIPLIER);
        self.0 = a ^ b.rotate_left(32);
    }

    fn finish(&self) -> u64 {
        let h = self.0.wrapping_mul(MULTIPLIER);
        h ^ (h >> 29)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in ["plain", "a \"b\" \\ c", "tab\there\u{1}", "é ✓ /"] {
            assert_eq!(json_string(text), serde_json::to_string(text).unwrap());
        }
    }

    #[test]
    fn a_key_lists_each_level_even_an_empty_one() {
        let group = [3, LEVEL, LEVEL, 4, 5, LEVEL];
        let levels: Vec<&[u32]> = levels(&group).collect();
        assert_eq!(levels, [&[3][..], &[], &[4, 5]]);
    }
}
