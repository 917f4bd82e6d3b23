//! `sipws test`: run the conformance suite against a target (the embedded reference server by
//! default) and report verdicts per case, with exit codes CI can trust.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use sipws::report::{console, junit, write_json};
use sipws::runner::{RunOptions, run_reporting};
use sipws::suite::{Filter, load};
use sipws::target::{Target, TargetAuth, Trust, parse_url};
use sipws::verdict::{Level, Report};

#[derive(Args, Debug, Clone)]
pub struct TestArgs {
    /// The target's ws:// URL; without it (and without a profile naming one) the embedded
    /// reference server is started and tested.
    pub target: Option<String>,
    /// A TOML target profile: ws, wss, ca, insecure, domain, udp, capabilities (overrides of the
    /// probe), timeout_ms,
    /// auth_user, auth_password.
    /// Flags given on the command line override it.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// The target's wss:// URL (cases tagged @needs:wss are skipped without it).
    #[arg(long)]
    pub wss: Option<String>,
    /// PEM file with the CA (or certificate) that signs the target's WSS certificate.
    #[arg(long, conflicts_with = "insecure")]
    pub ca: Option<PathBuf>,
    /// Accept any WSS certificate.
    #[arg(long)]
    pub insecure: bool,
    /// SIP domain of the test users (default: the ws URL's host).
    #[arg(long)]
    pub domain: Option<String>,
    /// The target's SIP/UDP address (cases tagged @needs:udp are skipped without it).
    #[arg(long)]
    pub udp: Option<std::net::SocketAddr>,
    /// Run only cases whose id starts with this (repeatable).
    #[arg(long = "case")]
    pub cases: Vec<String>,
    /// Run only cases carrying this tag, e.g. `req:7118-4.1-b`, `subject:handshake` (repeatable;
    /// all must match).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Run only cases of this level: must, should, may, info (repeatable).
    #[arg(long = "level")]
    pub levels: Vec<String>,
    /// Leave out cases whose id starts with this (repeatable).
    #[arg(long = "exclude")]
    pub exclude: Vec<String>,
    /// List the selected cases and exit.
    #[arg(long)]
    pub list: bool,
    /// Write the JSON report (schema: conformance/report.schema.json) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report to this file.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Show the evidence (bytes sent and received) of every case that did not pass.
    #[arg(long, short)]
    pub verbose: bool,
    /// How long to wait for any single answer, in milliseconds [default: 1000].
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Override what the probe finds: NAME forces a capability, no-NAME denies it (repeatable;
    /// wss, udp, two-users, outbound, gruu, path, flow-token, auth, ws-wss-same).
    #[arg(long = "capability")]
    pub capabilities: Vec<String>,
    /// The target demands digest authentication (RFC 3261 §22): a user name it knows, with
    /// --auth-password; cases tagged @needs:auth are skipped without them.
    #[arg(long, requires = "auth_password")]
    pub auth_user: Option<String>,
    /// The password of --auth-user.
    #[arg(long, requires = "auth_user")]
    pub auth_password: Option<String>,
    /// Cases run at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
}

/// A target profile (`--profile target.toml`), every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub ws: Option<String>,
    pub wss: Option<String>,
    /// Relative to the profile's own directory.
    pub ca: Option<PathBuf>,
    pub insecure: Option<bool>,
    pub domain: Option<String>,
    pub udp: Option<std::net::SocketAddr>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    pub timeout_ms: Option<u64>,
    /// A user of the target's digest authentication, with `auth_password` (`@needs:auth`).
    pub auth_user: Option<String>,
    pub auth_password: Option<String>,
}

/// The command line over the profile: flags win, the profile fills the rest.
fn merge(args: &TestArgs) -> Result<TestArgs> {
    let Some(path) = &args.profile else {
        return Ok(args.clone());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let p: Profile = toml::from_str(&text)
        .with_context(|| format!("{}: not a target profile", path.display()))?;
    let base = path.parent().unwrap_or(std::path::Path::new("."));
    let mut merged = args.clone();
    merged.target = args.target.clone().or(p.ws);
    merged.wss = args.wss.clone().or(p.wss);
    merged.ca = args.ca.clone().or(p.ca.map(|c| base.join(c)));
    merged.insecure = args.insecure || p.insecure.unwrap_or(false);
    merged.domain = args.domain.clone().or(p.domain);
    merged.udp = args.udp.or(p.udp);
    if merged.capabilities.is_empty() {
        merged.capabilities = p.capabilities;
    }
    merged.timeout = args.timeout.or(p.timeout_ms);
    if merged.auth_user.is_none() && merged.auth_password.is_none() {
        merged.auth_user = p.auth_user;
        merged.auth_password = p.auth_password;
    }
    Ok(merged)
}

/// Exit code 2: a usage error or an unreachable target.
fn usage(message: impl std::fmt::Display) -> Result<ExitCode> {
    eprintln!("sipws test: {message}");
    Ok(ExitCode::from(2))
}

pub fn test(args: &TestArgs) -> Result<ExitCode> {
    let args = &match merge(args) {
        Ok(a) => a,
        Err(e) => return usage(format!("{e:#}")),
    };
    let mut levels = Vec::new();
    for l in &args.levels {
        match Level::parse(l) {
            Some(l) => levels.push(l),
            None => return usage(format!("unknown level {l:?}: must, should, may or info")),
        }
    }
    let filter = Filter {
        ids: args.cases.clone(),
        tags: args.tags.clone(),
        levels,
        exclude: args.exclude.clone(),
    };
    let cases: Vec<_> = load()
        .context("loading the embedded features")?
        .into_iter()
        .filter(|c| filter.matches(&c.info))
        .collect();
    if cases.is_empty() {
        return usage("no case matches the filters");
    }
    if args.list {
        for c in &cases {
            println!("{}", console::case_listing(&c.info));
        }
        println!("{} cases", cases.len());
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let timeout = Duration::from_millis(args.timeout.unwrap_or(1000));
        let (server, target) = match &args.target {
            None => {
                let (handle, target) = sipws::embedded::start(timeout)
                    .await
                    .context("starting the embedded reference server")?;
                (Some(handle), target)
            }
            Some(url) => match external_target(args, url, timeout) {
                Ok(t) => (None, t),
                Err(e) => return usage(e),
            },
        };
        // An unreachable target is a usage-level failure (exit 2), not a suite of errors.
        if let Err(e) = target.connect(false).await {
            if let Some(s) = server {
                s.shutdown().await;
            }
            return usage(format!("target unreachable: {e}"));
        }
        let started = Instant::now();
        let target = Arc::new(target);
        let options = RunOptions {
            concurrency: args.concurrency,
            case_timeout: timeout * 10,
        };
        // A progress bar on stderr, drawn only when it is a terminal (indicatif hides it
        // otherwise), so CI logs and piped reports stay clean.
        let bar = ProgressBar::new(cases.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}") {
            bar.set_style(style);
        }
        let run = run_reporting(cases, target.clone(), options, &mut |v| {
            bar.set_message(v.case.id.clone());
            bar.inc(1);
        })
        .await;
        bar.finish_and_clear();
        let report = Report::new(
            target.label.clone(),
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            run.verdicts,
        )
        .with_profile(run.profile)
        .with_notes(run.notes);
        if let Some(s) = server {
            s.shutdown().await;
        }
        let stdout = std::io::stdout();
        console::write(&report, args.verbose, &mut stdout.lock())?;
        if let Some(path) = &args.json {
            let mut f = BufWriter::new(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            );
            write_json(&report, &mut f)?;
            f.flush()?;
        }
        if let Some(path) = &args.junit {
            let mut f = BufWriter::new(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            );
            junit::write(&report, &mut f)?;
            f.flush()?;
        }
        Ok(ExitCode::from(report.exit_code()))
    })
}

fn external_target(args: &TestArgs, url: &str, timeout: Duration) -> Result<Target> {
    let ws = parse_url(url)?;
    if ws.secure {
        anyhow::bail!("{url}: give the ws:// URL as the target and the wss:// one with --wss");
    }
    let wss = args.wss.as_deref().map(parse_url).transpose()?;
    let trust = match (&args.ca, args.insecure) {
        (Some(path), _) => Trust::CaPem(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        (None, true) => Trust::InsecureAcceptAnyCertificate,
        (None, false) if wss.is_some() => {
            anyhow::bail!("--wss needs --ca FILE or --insecure")
        }
        (None, false) => Trust::InsecureAcceptAnyCertificate,
    };
    for c in &args.capabilities {
        sipws::profile::parse_declared(c).map_err(|e| anyhow::anyhow!("--capability: {e}"))?;
    }
    let auth = match (&args.auth_user, &args.auth_password) {
        (Some(u), Some(p)) => Some(TargetAuth {
            username: u.clone(),
            password: p.clone(),
            target: None,
        }),
        (None, None) => None,
        _ => anyhow::bail!("auth_user and auth_password go together"),
    };
    Ok(Target {
        auth,
        label: url.to_string(),
        domain: args.domain.clone().unwrap_or_else(|| ws.host.clone()),
        ws: Some(ws),
        wss,
        trust,
        udp: args.udp,
        timeout,
        capabilities: args.capabilities.clone(),
    })
}
