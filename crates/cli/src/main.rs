//! `diembao`: the one binary. See shared/CONTRACT.md for the command line it promises.

mod bench;
mod bench_scale;
mod bench_search;
mod cases_cmd;
mod demo;
mod demo_pack;
mod sitepack;

use std::io::{BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use diembao_core::config::Config;
use diembao_core::source::parse_sources;
use diembao_jobs::{Env, EnvOptions};

#[derive(Parser)]
#[command(
    name = "diembao",
    version,
    about = "Theo dõi báo chí và mạng xã hội: thu thập, tìm kiếm, gắn cờ, điểm báo tuần"
)]
struct Cli {
    /// Where the SQLite file, the search index, raw captures and exports live.
    #[arg(
        long,
        global = true,
        env = "DIEMBAO_DATA_DIR",
        default_value = "./diembao-data"
    )]
    data_dir: PathBuf,
    /// TOML settings (default: DATA_DIR/diembao.toml if present).
    #[arg(long, global = true, env = "DIEMBAO_CONFIG")]
    config: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…` (default: SQLite in the data dir).
    #[arg(long, global = true, env = "DIEMBAO_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the bundled demo sites on loopback, crawl them, and serve the web UI.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
    },
    /// The production main job: scheduler, job workers, indexer and web UI in one process.
    Run {
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// Pages fetched at a time by this process's workers.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// The queues this process works on (the scheduler and the web UI always run).
        /// On a scale-out, `--queues index` leaves crawling to `worker` processes.
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "sources,pages,index"
        )]
        queues: Vec<QueueName>,
    },
    /// Only job workers: any number of these, on any machine, against one PostgreSQL.
    Worker {
        /// Pages fetched at a time by this process.
        #[arg(long, env = "DIEMBAO_CONCURRENCY", default_value_t = 8)]
        concurrency: usize,
        /// The queues this process works on: `sources` (read feeds, sitemaps, listings),
        /// `pages` (fetch, extract, tag and store a page; aliases `fetch`, `extract`,
        /// `tag`), `index` (the single index writer: one process only).
        #[arg(
            long,
            env = "DIEMBAO_QUEUES",
            value_enum,
            value_delimiter = ',',
            default_value = "sources,pages"
        )]
        queues: Vec<QueueName>,
        /// The same as adding `index` to `--queues`.
        #[arg(long)]
        indexer: bool,
    },
    /// Only the web UI and the JSON API.
    Serve {
        #[arg(long)]
        addr: Option<SocketAddr>,
    },
    /// Manage the sources to watch.
    Sources {
        #[command(subcommand)]
        command: SourcesCommand,
    },
    /// Crawl every source once and return when the queue is drained.
    Crawl(CrawlArgs),
    /// Extract articles from saved pages; nothing is stored.
    Extract {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The page's address (for relative links and canonical URLs).
        #[arg(long)]
        url: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Import already-extracted documents (JSONL).
    Ingest { file: PathBuf },
    /// Every stored document as JSON lines.
    Export {
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        jsonl: bool,
    },
    /// Full-text search.
    Search(SearchArgs),
    /// Policy rules: load a rule set (re-tags the archive) or test one without storing.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// The review queue of violation candidates.
    Candidates {
        #[command(subcommand)]
        command: CandidatesCommand,
    },
    /// The weekly press digest (bản tin điểm báo tuần) and period reports.
    Digest {
        #[command(subcommand)]
        command: DigestCommand,
    },
    /// Case files for the police liaison: create, approve, hand over, export, verify.
    Cases {
        #[command(subcommand)]
        command: cases_cmd::CasesCommand,
    },
    /// Accounts for the web UI and API.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Speed figures, measured side by side in one run.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Rebuild the search index from the database.
    Reindex,
    /// Compare the database and the search index.
    Check {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SourcesCommand {
    /// Upsert sources (by url) from a sources.toml.
    Import { file: PathBuf },
    /// Add an outlet by its home page: finds its feeds and sitemaps and stores the best.
    Add {
        url: String,
        #[arg(long)]
        name: Option<String>,
        /// For sites with neither feed nor sitemap: CSS selector of article links on the page.
        #[arg(long)]
        link_selector: Option<String>,
        #[arg(long)]
        allow_private_network: bool,
        #[arg(long)]
        json: bool,
    },
    /// List sources with their health.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DigestCommand {
    /// Build the digest of an ISO week (or of a date range, compared with a year before).
    Build {
        #[arg(long, conflicts_with_all = ["from", "to"])]
        week: Option<String>,
        #[arg(long, requires = "to")]
        from: Option<String>,
        #[arg(long, requires = "from")]
        to: Option<String>,
        #[arg(long, default_value = "html", value_parser = ["html", "text", "json"])]
        format: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Mail the week's digest to each configured recipient, once per week.
    Send {
        #[arg(long)]
        week: String,
        #[arg(long)]
        json: bool,
    },
    /// The archive of built digests.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create an account (or reset its role and password); the password is read from stdin.
    Add {
        name: String,
        #[arg(long, value_parser = ["viewer", "reviewer", "admin", "liaison"])]
        role: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List accounts.
    List {
        #[arg(long)]
        json: bool,
    },
}

/// A queue a process can work on (see `worker --help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum QueueName {
    #[value(alias = "visit-source")]
    Sources,
    #[value(
        alias = "fetch-page",
        alias = "fetch",
        alias = "extract",
        alias = "tag"
    )]
    Pages,
    #[value(alias = "indexer")]
    Index,
}

fn serve_of(queues: &[QueueName]) -> diembao_jobs::Serve {
    diembao_jobs::Serve {
        sources: queues.contains(&QueueName::Sources),
        pages: queues.contains(&QueueName::Pages),
    }
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Synthetic Vietnamese documents: diembao's search against SQLite FTS5.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        docs: usize,
        #[arg(long, default_value_t = 50)]
        rounds: usize,
    },
    /// Generated pages over loopback hosts: the whole pipeline against extraction alone.
    Crawl {
        #[arg(long, default_value_t = 10_000)]
        pages: usize,
        #[arg(long, default_value_t = 50)]
        hosts: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Rounds to run, one after the other, each in a process of its own: the figures
        /// are then the median round's (by ratio), with every round's listed.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        rounds: u16,
    },
    /// Serve a generated pack on loopback until interrupted; write its sources.toml.
    Pack {
        #[arg(long, default_value_t = 5_000)]
        pages: usize,
        #[arg(long, default_value_t = 20)]
        hosts: usize,
        /// Where to write the sources.toml that lists the served sites.
        #[arg(long)]
        sources_out: PathBuf,
        /// Where to write the rules the pack's pages are made to trip (one page in 25).
        #[arg(long)]
        rules_out: Option<PathBuf>,
        /// Render every page once, up front (a static site: cheaper per request, and
        /// about 6 KB of memory a page).
        #[arg(long)]
        prerender: bool,
    },
    /// Scale-out: pages/s with 1, 2, 4… worker processes against PostgreSQL, and the
    /// queue's cost per job on PostgreSQL and on SQLite, in one run.
    Scale {
        /// A PostgreSQL server URL; a scratch database is created there per run.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres: String,
        #[arg(long, default_value_t = 5_000)]
        pages: usize,
        #[arg(long, default_value_t = 20)]
        hosts: usize,
        /// Worker process counts to measure, in order.
        #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
        workers: Vec<usize>,
        /// Pages at a time per worker process.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// No-op jobs pushed and run per backend for the queue cost.
        #[arg(long, default_value_t = 2_000)]
        jobs: usize,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Store the file as a new version of its rule set (named after the file) and re-tag.
    Import {
        file: PathBuf,
        /// Who imports (recorded in the audit log).
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Evaluate the rules on JSONL documents; nothing is stored.
    Test {
        file: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The stored rule-set versions.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CandidatesCommand {
    /// Candidates, most severe first.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        severity: Option<String>,
        #[arg(long)]
        source: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A reviewer's decision on a candidate.
    Review {
        id: i64,
        #[arg(long, value_parser = ["confirm", "dismiss"])]
        decision: String,
        #[arg(long)]
        reviewer: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Assign a candidate to a reviewer.
    Assign {
        id: i64,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "cli")]
        actor: String,
    },
}

#[derive(Args)]
struct CrawlArgs {
    /// Crawl once and exit (the scheduler of `run` revisits sources on its own).
    #[arg(long, required = true)]
    once: bool,
    /// Allow private and loopback addresses (refused by default).
    #[arg(long)]
    allow_private_network: bool,
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct SearchArgs {
    query: String,
    #[arg(long, default_value_t = 10)]
    limit: usize,
    #[arg(long, default_value_t = 0)]
    offset: usize,
    #[arg(long)]
    source: Option<String>,
    #[arg(long)]
    since: Option<String>,
    #[arg(long)]
    until: Option<String>,
    #[arg(long)]
    tag: Option<String>,
    /// relevance (default) or date
    #[arg(long, default_value = "relevance")]
    sort: String,
    #[arg(long)]
    json: bool,
}

/// An error that is the user's input (exit 2), as opposed to a runtime failure (exit 1).
#[derive(Debug)]
struct BadInput(String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

fn bad_input(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(BadInput(message.into()))
}

/// mimalloc instead of glibc malloc: parsing and extracting HTML allocates many small,
/// short-lived objects, and the worker threads allocate concurrently.
/// `tests/tools/bench-extract.py` measured extraction at 2.80 ms/page with glibc malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = matches!(
        cli.command,
        Command::Demo { .. } | Command::Run { .. } | Command::Worker { .. } | Command::Serve { .. }
    );
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if verbose {
            "info,sqlx=warn,tantivy=warn,apalis=warn,apalis_core=warn,sea_orm_migration=warn"
        } else {
            "warn,tantivy=error"
        })
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Blocking work here is short: capture files synced, index commits, password
        // hashes, searches. 32 threads keep the disk busy; tokio's default (512) lets a
        // burst of captures start hundreds of threads, each keeping an allocator heap.
        .max_blocking_threads(32)
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => {
            if let Some(bad) = err.downcast_ref::<BadInput>() {
                eprintln!("error: {bad}");
                return ExitCode::from(2);
            }
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn load_config(cli: &Cli) -> Result<Config> {
    let (path, required) = match &cli.config {
        Some(path) => (path.clone(), true),
        None => (cli.data_dir.join("diembao.toml"), false),
    };
    if !path.exists() {
        if required {
            return Err(bad_input(format!(
                "{}: no such settings file",
                path.display()
            )));
        }
        return Ok(Config::default());
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Config::parse(&text).map_err(|err| bad_input(err.display_in(&path.display().to_string())))
}

fn database_url(cli: &Cli) -> String {
    cli.database_url.clone().unwrap_or_else(|| {
        let path = cli.data_dir.join("diembao.sqlite");
        format!("sqlite://{}", path.display())
    })
}

async fn open_env(cli: &Cli, config: Config) -> Result<Env> {
    std::fs::create_dir_all(&cli.data_dir)
        .with_context(|| format!("creating data dir {}", cli.data_dir.display()))?;
    let options = EnvOptions {
        data_dir: cli.data_dir.clone(),
        database_url: database_url(cli),
        config,
    };
    Env::open(options).await.context("opening the data dir")
}

fn parse_when(text: Option<&str>, end_of_day: bool) -> Result<Option<DateTime<Utc>>> {
    let Some(text) = text else { return Ok(None) };
    let at = diembao_core::document::parse_datetime(text)
        .ok_or_else(|| bad_input(format!("bad date `{text}` (use YYYY-MM-DD or RFC 3339)")))?;
    let at = if end_of_day && text.trim().len() == 10 {
        at + chrono::Duration::days(1)
    } else {
        at
    };
    Ok(Some(at.with_timezone(&Utc)))
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let mut config = load_config(&cli)?;
    match &cli.command {
        Command::Demo { addr } => demo::run(&cli.data_dir, config, *addr)
            .await
            .map(|_| ExitCode::SUCCESS),
        Command::Extract { files, url, json } => extract(files, url.as_deref(), *json),
        Command::Sources {
            command: SourcesCommand::Import { file },
        } => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| bad_input(format!("{}: {e}", file.display())))?;
            let parsed = parse_sources(&text);
            let env = open_env(&cli, config).await?;
            let mut counts = std::collections::BTreeMap::<&str, u64>::new();
            for spec in &parsed.sources {
                let (_, outcome) = env.store.upsert_source(spec).await?;
                *counts
                    .entry(match outcome {
                        diembao_store::Upsert::New => "new",
                        diembao_store::Upsert::Updated => "updated",
                        diembao_store::Upsert::Unchanged => "unchanged",
                    })
                    .or_default() += 1;
            }
            eprintln!(
                "sources: {} new, {} updated, {} unchanged, {} rejected",
                counts.get("new").unwrap_or(&0),
                counts.get("updated").unwrap_or(&0),
                counts.get("unchanged").unwrap_or(&0),
                parsed.errors.len()
            );
            report_input_errors(file, &parsed.errors)
        }
        Command::Sources {
            command:
                SourcesCommand::Add {
                    url,
                    name,
                    link_selector,
                    allow_private_network,
                    json,
                },
        } => {
            let home = url::Url::parse(url).map_err(|e| bad_input(format!("{url}: {e}")))?;
            if *allow_private_network {
                config.crawl.allow_private_network = true;
            }
            let env = open_env(&cli, config).await?;
            let found = env
                .discover_source(&home, name.as_deref(), link_selector.as_deref())
                .await?;
            let (id, outcome) = env.store.upsert_source(&found.proposed).await?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string(
                        &serde_json::json!({"id": id, "outcome": outcome, "discovery": found})
                    )?
                );
            } else {
                for (feed, items) in &found.feeds {
                    println!("feed     {feed} ({items} items)");
                }
                for (sitemap, entries) in &found.sitemaps {
                    println!("sitemap  {sitemap} ({entries} entries)");
                }
                println!(
                    "added    #{id} {} ({}) {}",
                    found.proposed.name, found.proposed.kind, found.proposed.url
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sources {
            command: SourcesCommand::List { json },
        } => {
            let env = open_env(&cli, config).await?;
            sources_list(&env, *json).await
        }
        Command::Crawl(args) => {
            if args.allow_private_network {
                config.crawl.allow_private_network = true;
            }
            let env = open_env(&cli, config).await?;
            crawl(&env, args).await
        }
        Command::Ingest { file } => {
            let reader = std::fs::File::open(file)
                .map_err(|e| bad_input(format!("{}: {e}", file.display())))?;
            let env = open_env(&cli, config).await?;
            let report = diembao_jobs::ingest_jsonl(&env, BufReader::new(reader)).await?;
            eprintln!(
                "ingest: {} new, {} updated, {} unchanged, {} rejected; {} indexed",
                report.new, report.updated, report.unchanged, report.failed, report.indexed
            );
            report_input_errors(file, &report.errors)
        }
        Command::Export {
            since,
            until,
            jsonl: _,
        } => {
            let since = parse_when(since.as_deref(), false)?;
            let until = parse_when(until.as_deref(), true)?;
            let env = open_env(&cli, config).await?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let count = diembao_jobs::export_jsonl(&env, since, until, &mut out).await?;
            out.flush()?;
            eprintln!("export: {count} documents");
            Ok(ExitCode::SUCCESS)
        }
        Command::Search(args) => {
            let env = open_env(&cli, config).await?;
            search(&env, args)
        }
        Command::Bench {
            command: BenchCommand::Search { docs, rounds },
        } => {
            let result = bench_search::search(*docs, *rounds).await?;
            println!("{}", serde_json::to_string_pretty(&result)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            command:
                BenchCommand::Crawl {
                    pages,
                    hosts,
                    concurrency,
                    rounds,
                },
        } => {
            let result = if *rounds > 1 {
                bench::crawl_rounds(usize::from(*rounds), *pages, *hosts, *concurrency)?
            } else {
                bench::crawl(*pages, *hosts, *concurrency).await?
            };
            println!("{}", serde_json::to_string_pretty(&result)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            command:
                BenchCommand::Pack {
                    pages,
                    hosts,
                    sources_out,
                    rules_out,
                    prerender,
                },
        } => {
            if let Some(rules_out) = rules_out {
                std::fs::write(rules_out, bench::BENCH_RULES)?;
            }
            bench::pack(*pages, *hosts, *prerender, sources_out).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            command:
                BenchCommand::Scale {
                    postgres,
                    pages,
                    hosts,
                    workers,
                    concurrency,
                    jobs,
                },
        } => {
            let result = bench_scale::scale(bench_scale::ScaleOptions {
                postgres: postgres.clone(),
                pages: *pages,
                hosts: *hosts,
                workers: workers.clone(),
                concurrency: *concurrency,
                jobs: *jobs,
            })
            .await?;
            println!("{}", serde_json::to_string_pretty(&result)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Digest { command } => digest_command(&cli, config, command).await,
        Command::Cases { command } => cases_cmd::run(&cli, config, command).await,
        Command::Users {
            command:
                UsersCommand::Add {
                    name,
                    role,
                    password_stdin: _,
                },
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.chars().count() < 8 {
                return Err(bad_input("the password must have at least 8 characters"));
            }
            let hash =
                diembao_web::auth::hash_password(password).map_err(|e| anyhow!("hashing: {e}"))?;
            let env = open_env(&cli, config).await?;
            match env.store.upsert_user(name, role, &hash, "cli").await {
                Ok((id, outcome)) => {
                    eprintln!(
                        "user {name} ({role}): {}",
                        if outcome == diembao_store::Upsert::New {
                            "created"
                        } else {
                            "updated"
                        }
                    );
                    println!("{id}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(diembao_store::StoreError::Invalid(message)) => Err(bad_input(message)),
                Err(err) => Err(err.into()),
            }
        }
        Command::Users {
            command: UsersCommand::List { json },
        } => {
            let env = open_env(&cli, config).await?;
            let users = env.store.users().await?;
            if *json {
                let rows: Vec<serde_json::Value> = users.iter().map(|u| serde_json::json!({"id": u.id, "name": u.name, "role": u.role, "disabled": u.disabled})).collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for u in &users {
                    println!(
                        "{:>4}  {:<10} {}{}",
                        u.id,
                        u.role,
                        u.name,
                        if u.disabled { " (disabled)" } else { "" }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { command } => rules_command(&cli, config, command).await,
        Command::Candidates { command } => candidates_command(&cli, config, command).await,
        Command::Reindex => {
            let env = open_env(&cli, config).await?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("reindex {bar:40} {pos}/{len} documents")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let done = env
                .reindex(|done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
                .await?;
            bar.finish_and_clear();
            eprintln!("reindex: {done} documents indexed");
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { json } => {
            let env = open_env(&cli, config).await?;
            let status = env.index_status().await?;
            if *json {
                println!("{}", serde_json::to_string(&status)?);
            } else {
                println!(
                    "stored {}  indexed {}  waiting {}  tagged {}",
                    status.stored, status.indexed, status.pending, status.tagged
                );
            }
            Ok(if status.stored == status.indexed && status.pending == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Run {
            addr,
            concurrency,
            queues,
        } => {
            let addr = resolve_addr(*addr, &config)?;
            let env = open_env(&cli, config).await?;
            let indexer = queues.contains(&QueueName::Index);
            run_main(
                env,
                Some(addr),
                *concurrency,
                serve_of(queues),
                true,
                indexer,
            )
            .await
            .map(|_| ExitCode::SUCCESS)
        }
        Command::Worker {
            concurrency,
            queues,
            indexer,
        } => {
            let env = open_env(&cli, config).await?;
            let indexer = *indexer || queues.contains(&QueueName::Index);
            run_main(env, None, *concurrency, serve_of(queues), false, indexer)
                .await
                .map(|_| ExitCode::SUCCESS)
        }
        Command::Serve { addr } => {
            let addr = resolve_addr(*addr, &config)?;
            let env = open_env(&cli, config).await?;
            eprintln!("diembao: http://{addr}/");
            diembao_web::serve(
                env,
                addr,
                diembao_web::sessions_for(addr),
                shutdown_signal(),
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn resolve_addr(addr: Option<SocketAddr>, config: &Config) -> Result<SocketAddr> {
    match addr {
        Some(addr) => Ok(addr),
        None => config
            .web
            .addr
            .parse()
            .map_err(|_| bad_input(format!("web.addr `{}` is not an address", config.web.addr))),
    }
}

fn report_input_errors(file: &Path, errors: &[diembao_core::InputError]) -> Result<ExitCode> {
    for err in errors {
        eprintln!("{}", err.display_in(&file.display().to_string()));
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

async fn sources_list(env: &Env, json: bool) -> Result<ExitCode> {
    let sources = env.store.sources().await?;
    let week_ago = Utc::now() - chrono::Duration::days(7);
    let mut rows = Vec::new();
    for source in &sources {
        let recent = env.store.documents_since(source.id, week_ago).await?;
        let healthy = source.consecutive_failures == 0;
        let (total, last_document_at) = env.store.source_document_stats(source.id).await?;
        let mut live = source.clone();
        live.documents_total = total;
        live.last_document_at = last_document_at;
        let alert = diembao_store::health_alert(&live, Utc::now());
        let source = &live;
        rows.push(serde_json::json!({
            "id": source.id,
            "name": source.name,
            "kind": source.kind,
            "url": source.url,
            "every_secs": source.every_secs,
            "link_selector": source.link_selector,
            "enabled": source.enabled,
            "health": {
                "status": if healthy { "ok" } else { "failing" },
                "alert": alert,
                "last_success_at": source.last_success_at.map(|d| d.to_rfc3339()),
                "last_error_at": source.last_error_at.map(|d| d.to_rfc3339()),
                "last_error": source.last_error,
                "consecutive_failures": source.consecutive_failures,
                "documents_total": source.documents_total,
                "documents_per_day": recent as f64 / 7.0,
                "last_document_at": source.last_document_at.map(|d| d.to_rfc3339()),
            },
        }));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for source in &sources {
            let health = if source.consecutive_failures == 0 {
                "ok".to_string()
            } else {
                format!("FAILING x{}", source.consecutive_failures)
            };
            println!(
                "{:>4}  {:<8} {:<10} {:<32} {}",
                source.id, source.kind, health, source.name, source.url
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn crawl(env: &Env, args: &CrawlArgs) -> Result<ExitCode> {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let summary = env
        .crawl_once(args.concurrency, |s, outstanding| {
            bar.set_message(format!(
                "fetched {}  new {}  updated {}  unchanged {}  robots {}  failed {}  queued {outstanding}",
                s.fetched,
                s.new,
                s.updated,
                s.unchanged,
                s.skipped_robots,
                s.failed.values().sum::<u64>()
            ));
            bar.tick();
        })
        .await?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        eprintln!(
            "crawl: {} sources ({} failed); fetched {}, new {}, updated {}, unchanged {}, skipped by robots {}; {} indexed",
            summary.sources,
            summary.sources_failed,
            summary.fetched,
            summary.new,
            summary.updated,
            summary.unchanged,
            summary.skipped_robots,
            summary.indexed
        );
        for (reason, count) in &summary.skipped {
            eprintln!("  skipped {reason}: {count}");
        }
        for (reason, count) in &summary.failed {
            eprintln!("  failed {reason}: {count}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn extract(files: &[PathBuf], url: Option<&str>, _json: bool) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let several = files.len() > 1;
    let mut failed = false;
    for file in files {
        let body = match std::fs::read(file) {
            Ok(body) => body,
            Err(err) => {
                eprintln!("{}: {err}", file.display());
                failed = true;
                continue;
            }
        };
        let page_url = match url {
            Some(u) => url::Url::parse(u).map_err(|e| bad_input(format!("--url {u}: {e}")))?,
            None => {
                let absolute = std::fs::canonicalize(file).unwrap_or_else(|_| file.clone());
                url::Url::from_file_path(&absolute)
                    .map_err(|_| anyhow!("{}: cannot make a file URL", file.display()))?
            }
        };
        let input = diembao_crawl::extract::ExtractInput {
            body: &body,
            url: &page_url,
            content_type: None,
            fetched_at: Utc::now(),
        };
        let value = match diembao_crawl::extract::extract(&input) {
            Ok(x) => serde_json::json!({
                "url": x.url,
                "canonical_url": x.canonical_url,
                "title": x.title,
                "text": x.text,
                "author": x.author,
                "published_at": x.published_at.map(|d| d.to_rfc3339()),
                "lang": x.lang,
            }),
            Err(err) => {
                eprintln!("{}: {err}", file.display());
                failed = true;
                serde_json::json!({"url": page_url.as_str(), "error": err.to_string()})
            }
        };
        let value = if several {
            let mut map = serde_json::Map::new();
            map.insert(
                "file".into(),
                serde_json::Value::String(file.display().to_string()),
            );
            if let serde_json::Value::Object(fields) = value {
                map.extend(fields);
            }
            serde_json::Value::Object(map)
        } else {
            value
        };
        serde_json::to_writer(&mut out, &value)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn search(env: &Env, args: &SearchArgs) -> Result<ExitCode> {
    let sort = match args.sort.as_str() {
        "relevance" => diembao_index::Sort::Relevance,
        "date" => diembao_index::Sort::Date,
        other => return Err(bad_input(format!("--sort {other}: use relevance or date"))),
    };
    let request = diembao_index::SearchRequest {
        query: args.query.clone(),
        limit: args.limit,
        offset: args.offset,
        source: args.source.clone(),
        since: parse_when(args.since.as_deref(), false)?,
        until: parse_when(args.until.as_deref(), true)?,
        tag: args.tag.clone(),
        kind: None,
        sort,
        facets: false,
    };
    let results = match env.index.search(&request) {
        Ok(results) => results,
        Err(diembao_index::IndexError::Query(err)) => return Err(bad_input(err.to_string())),
        Err(err) => return Err(err.into()),
    };
    if args.json {
        let hits: Vec<serde_json::Value> = results
            .hits
            .iter()
            .map(|h| {
                serde_json::json!({
                    "url": h.url, "title": h.title, "source": h.source, "published_at": h.published_at,
                    "score": h.score, "snippet": h.snippet, "tags": h.tags,
                })
            })
            .collect();
        println!("{}", serde_json::to_string(&hits)?);
    } else {
        println!("{} kết quả", results.total);
        for (i, hit) in results.hits.iter().enumerate() {
            println!(
                "{:>3}. {}\n     {} · {} · {}\n     {}",
                i + 1 + args.offset,
                hit.title,
                hit.source.as_deref().unwrap_or("-"),
                hit.published_at.as_deref().unwrap_or("-"),
                hit.url,
                strip_tags(&hit.snippet)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn strip_tags(html: &str) -> String {
    html.replace("<b>", "")
        .replace("</b>", "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// `run` / `worker`: the scheduler (run only), the workers, the indexer, and the web UI (run only).
async fn run_main(
    env: Env,
    addr: Option<SocketAddr>,
    concurrency: usize,
    serve: diembao_jobs::Serve,
    scheduler: bool,
    indexer: bool,
) -> Result<()> {
    tracing::info!(
        sources = serve.sources,
        pages = serve.pages,
        indexer,
        scheduler,
        concurrency,
        "starting"
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    if indexer {
        // The single index writer: `run` (or one `worker --indexer`); tantivy's lock
        // refuses a second one.
        let env = env.clone();
        let rx = stop_rx.clone();
        tasks.spawn(async move { env.run_indexer(rx).await });
    }
    {
        let env = env.clone();
        let mut rx = stop_rx.clone();
        let prefix = format!("worker-{}", std::process::id());
        tasks.spawn(async move {
            let queue = env.queue.clone();
            if let Err(err) = queue
                .run_workers(env, &prefix, concurrency, serve, async move {
                    let _ = rx.changed().await;
                })
                .await
            {
                tracing::error!(error = %err, "workers stopped");
            }
        });
    }
    if scheduler {
        let env = env.clone();
        let mut rx = stop_rx.clone();
        tasks.spawn(async move {
            loop {
                if let Err(err) = env.schedule_due_sources().await {
                    tracing::error!(error = %err, "scheduler pass failed");
                }
                if let Err(err) = env.queue.sweep_done().await {
                    tracing::error!(error = %err, "sweeping finished jobs failed");
                }
                if let Err(err) = env.prune_captures().await {
                    tracing::error!(error = %err, "capture retention pass failed");
                }
                if let Err(err) = env.send_alerts().await {
                    tracing::error!(error = %err, "candidate alerts failed; will retry");
                }
                match env.digest_due(Utc::now()).await {
                    Ok(Some(reports)) => {
                        tracing::info!(recipients = reports.len(), "weekly digest sent")
                    }
                    Ok(None) => {}
                    Err(err) => tracing::error!(error = %err, "weekly digest failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
                    _ = rx.changed() => return,
                }
            }
        });
    }
    if let Some(addr) = addr {
        let env = env.clone();
        let mut rx = stop_rx.clone();
        eprintln!("diembao: http://{addr}/");
        tasks.spawn(async move {
            if let Err(err) =
                diembao_web::serve(env, addr, diembao_web::sessions_for(addr), async move {
                    let _ = rx.changed().await;
                })
                .await
            {
                tracing::error!(error = %err, "web server stopped");
            }
        });
    }
    shutdown_signal().await;
    eprintln!("diembao: stopping…");
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    env.index.close_writer();
    Ok(())
}

fn read_rules(file: &Path) -> Result<(String, diembao_core::rules::RuleSet)> {
    let text =
        std::fs::read_to_string(file).map_err(|e| bad_input(format!("{}: {e}", file.display())))?;
    let set = diembao_core::rules::parse_rules(&text)
        .map_err(|err| bad_input(err.display_in(&file.display().to_string())))?;
    Ok((text, set))
}

async fn rules_command(cli: &Cli, config: Config, command: &RulesCommand) -> Result<ExitCode> {
    match command {
        RulesCommand::Test {
            file,
            input,
            json: _,
        } => {
            let (_, set) = read_rules(file)?;
            let reader = std::fs::File::open(input)
                .map_err(|e| bad_input(format!("{}: {e}", input.display())))?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut errors = Vec::new();
            let now = Utc::now();
            for (index, line) in std::io::BufRead::lines(BufReader::new(reader)).enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                let doc = match diembao_core::document::parse_ingest_line(&line, index + 1, now) {
                    Ok(doc) => doc,
                    Err(err) => {
                        errors.push(err);
                        continue;
                    }
                };
                let matches: Vec<serde_json::Value> = set
                    .evaluate(&(&doc).into())
                    .into_iter()
                    .map(|m| serde_json::json!({"rule": m.rule, "category": m.category, "severity": m.severity.as_str(), "terms": m.terms}))
                    .collect();
                serde_json::to_writer(
                    &mut out,
                    &serde_json::json!({"url": doc.url, "matches": matches}),
                )?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
            report_input_errors(input, &errors)
        }
        RulesCommand::Import { file, actor } => {
            let (text, set) = read_rules(file)?;
            let name = file
                .file_stem()
                .map_or_else(|| "rules".to_string(), |s| s.to_string_lossy().into_owned());
            let env = open_env(cli, config).await?;
            let sha = diembao_store::content_hash(&name, &text);
            let (version, created) = env
                .store
                .import_rule_version(&name, &text, &sha, actor)
                .await?;
            if created {
                eprintln!(
                    "rules: `{name}` version {} with {} rules",
                    version.version,
                    set.len()
                );
            } else {
                eprintln!("rules: `{name}` unchanged (version {})", version.version);
            }
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("re-tag {bar:40} {pos}/{len} documents")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let done = env
                .retag_all(|done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
                .await?;
            bar.finish_and_clear();
            let indexed = env.index_pending().await?;
            eprintln!("rules: {done} documents re-tagged, {indexed} re-indexed");
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::List { json } => {
            let env = open_env(cli, config).await?;
            let active: Vec<i64> = env
                .store
                .active_rule_versions()
                .await?
                .iter()
                .map(|v| v.id)
                .collect();
            let versions = env.store.rule_versions().await?;
            if *json {
                let rows: Vec<serde_json::Value> = versions
                    .iter()
                    .map(|v| serde_json::json!({"id": v.id, "rule_set_id": v.rule_set_id, "version": v.version, "sha256": v.sha256, "imported_by": v.imported_by, "created_at": v.created_at.to_rfc3339(), "active": active.contains(&v.id)}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for v in &versions {
                    println!(
                        "{:>4}  set {:<3} v{:<3} {} {}",
                        v.id,
                        v.rule_set_id,
                        v.version,
                        if active.contains(&v.id) {
                            "active "
                        } else {
                            "retired"
                        },
                        v.created_at.to_rfc3339()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn candidates_command(
    cli: &Cli,
    config: Config,
    command: &CandidatesCommand,
) -> Result<ExitCode> {
    let env = open_env(cli, config).await?;
    match command {
        CandidatesCommand::List {
            status,
            category,
            severity,
            source,
            json,
        } => {
            let filter = diembao_store::CandidateFilter {
                status: status.clone(),
                category: category.clone(),
                severity: severity.clone(),
                source: source.clone(),
                assignee: None,
            };
            let rows = env.store.candidates(&filter).await?;
            if *json {
                let out: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(c, d)| {
                        serde_json::json!({
                            "id": c.id, "url": d.url, "title": d.title, "source": d.source_name,
                            "rules": c.rules, "categories": c.categories, "severity": c.severity,
                            "status": c.status, "assignee": c.assignee, "terms": c.terms,
                            "published_at": diembao_store::published_with_offset(d).map(|p| p.to_rfc3339()),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                for (c, d) in &rows {
                    println!(
                        "{:>5}  {:<6} {:<9} {:<40} {}",
                        c.id,
                        c.severity,
                        c.status,
                        c.rules.to_string(),
                        d.title
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CandidatesCommand::Review {
            id,
            decision,
            reviewer,
            note,
        } => {
            match env
                .store
                .review_candidate(*id, decision, reviewer, note.as_deref())
                .await
            {
                Ok(candidate) => {
                    eprintln!(
                        "candidate {}: {} by {reviewer}",
                        candidate.id, candidate.status
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(diembao_store::StoreError::Invalid(message)) => Err(bad_input(message)),
                Err(err) => Err(err.into()),
            }
        }
        CandidatesCommand::Assign { id, to, actor } => {
            match env.store.assign_candidate(*id, Some(to), actor).await {
                Ok(candidate) => {
                    eprintln!("candidate {} assigned to {to}", candidate.id);
                    Ok(ExitCode::SUCCESS)
                }
                Err(diembao_store::StoreError::Invalid(message)) => Err(bad_input(message)),
                Err(err) => Err(err.into()),
            }
        }
    }
}

fn parse_period(
    week: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<diembao_core::digest::Period> {
    use diembao_core::digest::Period;
    match (week, from, to) {
        (Some(week), _, _) => {
            Period::parse_week(week).map_err(|e| bad_input(format!("--week {week}: {e}")))
        }
        (None, Some(from), Some(to)) => {
            let day = |text: &str| {
                chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| bad_input(format!("bad date `{text}` (use YYYY-MM-DD)")))
            };
            Period::range(day(from)?, day(to)?).map_err(|e| bad_input(e.to_string()))
        }
        _ => Err(bad_input("give --week YYYY-Www, or --from DATE --to DATE")),
    }
}

async fn digest_command(cli: &Cli, config: Config, command: &DigestCommand) -> Result<ExitCode> {
    match command {
        DigestCommand::Build {
            week,
            from,
            to,
            format,
            out,
        } => {
            let period = parse_period(week.as_deref(), from.as_deref(), to.as_deref())?;
            let env = open_env(cli, config).await?;
            env.index_pending().await?;
            let digest = env.build_digest(&period).await?;
            let rendered = match format.as_str() {
                "json" => serde_json::to_string_pretty(&digest)?,
                "text" => diembao_core::digest::render_text(&digest),
                _ => diembao_core::digest::render_html(&digest),
            };
            match out {
                Some(path) => {
                    std::fs::write(path, rendered.as_bytes())
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!(
                        "digest: {} documents, written to {}",
                        digest.total,
                        path.display()
                    );
                }
                None => println!("{rendered}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        DigestCommand::Send { week, json } => {
            let period = parse_period(Some(week), None, None)?;
            let env = open_env(cli, config).await?;
            env.index_pending().await?;
            let reports = env.send_digest(&period).await?;
            let failed = reports.iter().filter(|r| r.status != "sent").count();
            if *json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            } else {
                for r in &reports {
                    let what = if r.already_sent {
                        "already sent".to_string()
                    } else if r.status == "sent" {
                        "sent".to_string()
                    } else {
                        format!("FAILED: {}", r.error.as_deref().unwrap_or(""))
                    };
                    eprintln!("digest {week} → {}: {what}", r.recipient);
                }
            }
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        DigestCommand::List { json } => {
            let env = open_env(cli, config).await?;
            let rows = env.store.digests().await?;
            let mut out = Vec::new();
            for row in &rows {
                let deliveries = env.store.deliveries(row.id).await?;
                out.push(serde_json::json!({
                    "period": row.period, "from": row.from_date.to_string(), "to": row.to_date.to_string(),
                    "total": row.content["total"], "built_at": row.built_at.to_rfc3339(),
                    "deliveries": deliveries.iter().map(|d| serde_json::json!({"recipient": d.recipient, "status": d.status, "attempts": d.attempts, "sent_at": d.sent_at.map(|t| t.to_rfc3339())})).collect::<Vec<_>>(),
                }));
            }
            if *json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                for row in &out {
                    println!(
                        "{}  {} – {}  {} documents",
                        row["period"].as_str().unwrap_or(""),
                        row["from"].as_str().unwrap_or(""),
                        row["to"].as_str().unwrap_or(""),
                        row["total"]
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
