//! The adapter protocol: `sipws vectors check --adapter CMD` lets another
//! implementation answer the vectors. The command line is split on whitespace and run without
//! a shell, with the group name as its last argument. Each test goes to the adapter's stdin as
//! one JSON line `{"id", "group", "input"}`; the adapter answers one JSON line per test on
//! stdout, in input order: `{"id", "output"}` or `{"id", "skip": reason}`. A group it does not
//! implement: one line `{"unsupported": group}` and exit 0.
//!
//! Streaming mode runs the command once per group with every test on stdin; per-test mode
//! runs it once per test. Everything is bounded: a per-test timeout (between two answers) and
//! a per-group timeout; a crash, a non-JSON line, a wrong id or too few answers make the
//! tests concerned [`Answer::Error`] with the reason, never a hang or a panic.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The longest answer line read (a longer one is an error, not an allocation without end).
const MAX_LINE: u64 = 1 << 20;
/// How much of the adapter's stderr is kept for error messages.
const MAX_STDERR: usize = 2048;

/// Default bound on one test: from the previous answer (or the start) to this test's answer.
pub const DEFAULT_TEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Default bound on one group (all its tests, in either mode).
pub const DEFAULT_GROUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the adapter could not be used at all (a usage error, exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error("--adapter is empty: give the command line that runs your implementation")]
    Empty,
    #[error("adapter command {0:?} not found (no such file, and not on PATH)")]
    NotFound(String),
    #[error("adapter command {0:?} is not an executable file")]
    NotExecutable(String),
    #[error("adapter command {program:?} could not be started: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
}

/// The adapter's answer to one test.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `{"id", "output"}`: compare with the test's `expected`.
    Output(Value),
    /// `{"id", "skip"}` or `{"unsupported"}`: the reason.
    Skip(String),
    /// The adapter misbehaved for this test (crash, timeout, garbage, wrong id): why.
    Error(String),
}

/// How the adapter is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Once per group, one line per test on stdin.
    Streaming,
    /// Once per test, its single line on stdin.
    PerTest,
}

/// An adapter command, checked to exist and be executable.
#[derive(Debug, Clone)]
pub struct Adapter {
    /// The command line as given (for messages).
    pub command: String,
    program: PathBuf,
    args: Vec<String>,
    pub mode: Mode,
    pub test_timeout: Duration,
    pub group_timeout: Duration,
}

/// One test handed to the adapter.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub id: &'a str,
    pub input: &'a Value,
}

enum Event {
    Line(Vec<u8>),
    TooLong,
    Eof,
    ReadError(String),
}

impl Adapter {
    /// Splits `command` on whitespace and resolves its program (a path, or a name on `PATH`).
    pub fn new(command: &str, mode: Mode) -> Result<Adapter, AdapterError> {
        let mut words = command.split_whitespace().map(str::to_owned);
        let name = words.next().ok_or(AdapterError::Empty)?;
        let program = resolve(&name)?;
        Ok(Adapter {
            command: command.trim().to_owned(),
            program,
            args: words.collect(),
            mode,
            test_timeout: DEFAULT_TEST_TIMEOUT,
            group_timeout: DEFAULT_GROUP_TIMEOUT,
        })
    }

    /// The adapter's answers to a group's tests, one per request, in order.
    pub fn answer(
        &self,
        group: &str,
        requests: &[Request<'_>],
    ) -> Result<Vec<(Answer, Duration)>, AdapterError> {
        let group_deadline = Instant::now() + self.group_timeout;
        match self.mode {
            Mode::Streaming => {
                let lines: Vec<String> = requests.iter().map(|r| line(group, r)).collect();
                let ids: Vec<&str> = requests.iter().map(|r| r.id).collect();
                self.session(group, &lines, &ids, group_deadline)
            }
            Mode::PerTest => {
                let mut out = Vec::with_capacity(requests.len());
                for (i, r) in requests.iter().enumerate() {
                    let mut one =
                        self.session(group, &[line(group, r)], &[r.id], group_deadline)?;
                    let answer = one.pop().unwrap_or((
                        Answer::Error("the adapter gave no answer".to_owned()),
                        Duration::ZERO,
                    ));
                    if let Answer::Skip(reason) = &answer.0
                        && reason.starts_with(UNSUPPORTED)
                    {
                        // The group is not implemented: no need to start it again per test.
                        for _ in i..requests.len() {
                            out.push((Answer::Skip(reason.clone()), Duration::ZERO));
                        }
                        return Ok(out);
                    }
                    out.push(answer);
                }
                Ok(out)
            }
        }
    }

    /// Runs the command once with `lines` on stdin and reads one answer per line.
    fn session(
        &self,
        group: &str,
        lines: &[String],
        ids: &[&str],
        group_deadline: Instant,
    ) -> Result<Vec<(Answer, Duration)>, AdapterError> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .arg(group)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| AdapterError::Spawn {
                program: self.program.display().to_string(),
                source,
            })?;
        // Stdin is written from its own thread so a adapter that answers before reading
        // everything (or stops reading) cannot deadlock us; a broken pipe just ends it.
        if let Some(mut stdin) = child.stdin.take() {
            let payload: String = lines.iter().map(|l| format!("{l}\n")).collect();
            std::thread::spawn(move || {
                let _ = stdin.write_all(payload.as_bytes());
            });
        }
        let events = child.stdout.take().map(spawn_line_reader);
        let stderr = child.stderr.take().map(spawn_stderr_reader);

        let mut answers: Vec<(Answer, Duration)> = Vec::with_capacity(ids.len());
        let mut failure: Option<String> = None;
        let mut last = Instant::now();
        while answers.len() < ids.len() {
            let Some(events) = &events else {
                failure = Some("the adapter's output could not be read".to_owned());
                break;
            };
            let test_deadline = last + self.test_timeout;
            let deadline = test_deadline.min(group_deadline);
            let wait = deadline.saturating_duration_since(Instant::now());
            let event = match events.recv_timeout(wait) {
                Ok(e) => e,
                Err(RecvTimeoutError::Timeout) => {
                    failure = Some(if deadline == group_deadline {
                        format!(
                            "no answer: the group timeout ({}) ran out",
                            secs(self.group_timeout)
                        )
                    } else {
                        format!(
                            "no answer within the per-test timeout ({})",
                            secs(self.test_timeout)
                        )
                    });
                    break;
                }
                Err(RecvTimeoutError::Disconnected) => Event::Eof,
            };
            let now = Instant::now();
            let index = answers.len();
            match event {
                Event::Line(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    let text = text.trim();
                    if text.is_empty() {
                        continue;
                    }
                    if index == 0
                        && let Some(reason) = unsupported(text)
                    {
                        answers = ids
                            .iter()
                            .map(|_| (Answer::Skip(reason.clone()), Duration::ZERO))
                            .collect();
                        break;
                    }
                    answers.push((interpret(text, ids[index]), now - last));
                    last = now;
                }
                Event::TooLong => {
                    failure = Some(format!("an answer line is longer than {MAX_LINE} bytes"));
                    break;
                }
                Event::Eof => {
                    failure = Some(format!(
                        "the adapter closed its output after {index} of {} answers",
                        ids.len()
                    ));
                    break;
                }
                Event::ReadError(e) => {
                    failure = Some(format!("reading the adapter's output: {e}"));
                    break;
                }
            }
        }
        let status = finish(&mut child, failure.is_some(), group_deadline);
        if let Some(why) = failure {
            let mut why = format!("{why} ({status})");
            if let Some(text) =
                stderr.and_then(|rx| rx.recv_timeout(Duration::from_millis(300)).ok())
                && !text.trim().is_empty()
            {
                why.push_str(&format!("; stderr: {}", text.trim()));
            }
            while answers.len() < ids.len() {
                answers.push((Answer::Error(why.clone()), Duration::ZERO));
            }
        }
        Ok(answers)
    }
}

/// The prefix of the skip reason for a group the adapter does not implement.
const UNSUPPORTED: &str = "the adapter does not implement group";

/// `{"unsupported": group}` → the skip reason.
fn unsupported(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    let group = v.as_object()?.get("unsupported")?;
    Some(format!(
        "{UNSUPPORTED} {}",
        group
            .as_str()
            .map_or_else(|| group.to_string(), str::to_owned)
    ))
}

/// One answer line for the test `id`.
fn interpret(text: &str, id: &str) -> Answer {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Answer::Error(format!(
                "the adapter printed a line that is not JSON ({e}): {}",
                shorten(text)
            ));
        }
    };
    let Some(obj) = value.as_object() else {
        return Answer::Error(format!(
            "the answer is not a JSON object: {}",
            shorten(text)
        ));
    };
    match obj.get("id").and_then(Value::as_str) {
        Some(got) if got == id => {}
        Some(got) => {
            return Answer::Error(format!(
                "the adapter answered id {got:?} where {id:?} was due (answers come in input order)"
            ));
        }
        None => {
            return Answer::Error(format!(
                "the answer has no string \"id\": {}",
                shorten(text)
            ));
        }
    }
    if let Some(output) = obj.get("output") {
        Answer::Output(output.clone())
    } else if let Some(reason) = obj.get("skip") {
        Answer::Skip(format!(
            "skipped by the adapter: {}",
            reason
                .as_str()
                .map_or_else(|| reason.to_string(), str::to_owned)
        ))
    } else {
        Answer::Error(format!(
            "the answer has neither \"output\" nor \"skip\": {}",
            shorten(text)
        ))
    }
}

/// The request line for one test.
fn line(group: &str, r: &Request<'_>) -> String {
    json!({ "id": r.id, "group": group, "input": r.input }).to_string()
}

fn shorten(text: &str) -> String {
    const KEEP: usize = 200;
    match text.char_indices().nth(KEEP) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// Ends the child: waits briefly for a normal exit when every answer came, kills it otherwise
/// (or when it lingers). Returns a description of how it ended.
fn finish(child: &mut Child, failed: bool, group_deadline: Instant) -> String {
    if !failed {
        let grace = (Instant::now() + Duration::from_secs(2)).min(group_deadline);
        while Instant::now() < grace {
            match child.try_wait() {
                Ok(Some(status)) => return format!("exit {status}"),
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => break,
            }
        }
    }
    match child.try_wait() {
        Ok(Some(status)) => format!("adapter {status}"),
        _ => {
            let _ = child.kill();
            match child.wait() {
                Ok(_) => "adapter killed".to_owned(),
                Err(e) => format!("adapter could not be reaped: {e}"),
            }
        }
    }
}

fn spawn_line_reader(stdout: impl Read + Send + 'static) -> Receiver<Event> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut buf = Vec::new();
            match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut buf) {
                Ok(0) => {
                    let _ = tx.send(Event::Eof);
                    return;
                }
                Ok(n) if n as u64 == MAX_LINE && buf.last() != Some(&b'\n') => {
                    let _ = tx.send(Event::TooLong);
                    return;
                }
                Ok(_) => {
                    if tx.send(Event::Line(buf)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Event::ReadError(e.to_string()));
                    return;
                }
            }
        }
    });
    rx
}

fn spawn_stderr_reader(stderr: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stderr = stderr;
        let mut kept = Vec::new();
        let mut chunk = [0u8; 4096];
        // Drain everything (so the adapter never blocks on a full pipe), keep the tail.
        while let Ok(n) = stderr.read(&mut chunk) {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&chunk[..n]);
            if kept.len() > MAX_STDERR {
                kept.drain(..kept.len() - MAX_STDERR);
            }
        }
        let _ = tx.send(String::from_utf8_lossy(&kept).into_owned());
    });
    rx
}

/// A program name as given: a path when it holds a separator, else looked up on `PATH`.
fn resolve(name: &str) -> Result<PathBuf, AdapterError> {
    if name.contains(std::path::MAIN_SEPARATOR) || name.contains('/') {
        let path = PathBuf::from(name);
        return if !path.exists() {
            Err(AdapterError::NotFound(name.to_owned()))
        } else if is_executable(&path) {
            Ok(path)
        } else {
            Err(AdapterError::NotExecutable(name.to_owned()))
        };
    }
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let mut not_executable = false;
    for dir in std::env::split_paths(&path_var) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            if is_executable(&candidate) {
                return Ok(candidate);
            }
            not_executable = true;
        }
    }
    if not_executable {
        Err(AdapterError::NotExecutable(name.to_owned()))
    } else {
        Err(AdapterError::NotFound(name.to_owned()))
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpret_checks_json_id_and_shape() {
        assert_eq!(
            interpret(r#"{"id":"g/a","output":{"x":1}}"#, "g/a"),
            Answer::Output(json!({"x": 1}))
        );
        assert!(matches!(
            interpret(r#"{"id":"g/a","skip":"no"}"#, "g/a"),
            Answer::Skip(_)
        ));
        assert!(matches!(interpret("garbage", "g/a"), Answer::Error(m) if m.contains("not JSON")));
        assert!(
            matches!(interpret(r#"{"id":"g/b","output":1}"#, "g/a"), Answer::Error(m) if m.contains("\"g/b\""))
        );
        assert!(matches!(
            interpret(r#"{"id":"g/a"}"#, "g/a"),
            Answer::Error(_)
        ));
        assert!(matches!(interpret("[1]", "g/a"), Answer::Error(_)));
    }

    #[test]
    fn unsupported_line_is_recognised() {
        assert!(unsupported(r#"{"unsupported":"via"}"#).is_some_and(|r| r.ends_with("via")));
        assert_eq!(unsupported(r#"{"id":"via/x","output":{}}"#), None);
    }

    #[test]
    fn empty_and_missing_commands_are_usage_errors() {
        assert!(matches!(
            Adapter::new("  ", Mode::Streaming),
            Err(AdapterError::Empty)
        ));
        assert!(matches!(
            Adapter::new("/nonexistent/sipws-adapter --x", Mode::Streaming),
            Err(AdapterError::NotFound(_))
        ));
        assert!(matches!(
            Adapter::new("sipws-no-such-adapter-anywhere", Mode::Streaming),
            Err(AdapterError::NotFound(_))
        ));
    }
}
