//! `diembao cases …`: case files for the police liaison.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use diembao_core::config::Config;
use diembao_jobs::{Env, JobError};
use diembao_store::{Case, CustodyRecord, NewCase, StoreError, custody_action};

use crate::Cli;

#[derive(Subcommand)]
pub enum CasesCommand {
    /// Open a case from confirmed candidates; prints the case id on the last line.
    Create {
        #[arg(long)]
        title: String,
        #[arg(long = "candidate", required = true, num_args = 1..)]
        candidates: Vec<i64>,
        #[arg(long)]
        reviewer: String,
        /// What the case is about, in a few sentences.
        #[arg(long)]
        summary: Option<String>,
        /// The legal provisions the items break (free text).
        #[arg(long)]
        legal_basis: Option<String>,
    },
    /// Approve a draft case (a reviewer other than its creator, when there are several).
    Approve {
        id: i64,
        #[arg(long)]
        reviewer: String,
        #[arg(long)]
        note: String,
    },
    /// Hand an approved case over to a liaison account.
    Handover {
        id: i64,
        #[arg(long)]
        to: String,
        /// Who hands it over (recorded in the custody log).
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// The liaison acknowledges receipt of a handed-over case.
    Acknowledge {
        id: i64,
        #[arg(long)]
        by: String,
    },
    /// Close a case, with a note.
    Close {
        id: i64,
        #[arg(long)]
        reviewer: String,
        #[arg(long)]
        note: String,
    },
    /// Write the case file (zip: manifest, WARC captures, texts, summary, custody log).
    Export {
        id: i64,
        #[arg(long)]
        out: PathBuf,
        /// Who exports (recorded in the custody log).
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Recompute every hash of a case file and its custody chain; exit 1 naming what differs.
    Verify {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Cases, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One case: header, items and custody log (with the chain checked).
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

/// A store refusal (no such case, wrong status, wrong person) is bad input: exit 2.
fn store_error(err: StoreError) -> anyhow::Error {
    match err {
        StoreError::Invalid(message) => crate::bad_input(message),
        other => other.into(),
    }
}

fn job_error(err: JobError) -> anyhow::Error {
    match err {
        JobError::Store(err) => store_error(err),
        other => other.into(),
    }
}

fn case_json(case: &Case, items: usize) -> serde_json::Value {
    serde_json::json!({
        "id": case.id,
        "title": case.title,
        "summary": case.summary,
        "legal_basis": case.legal_basis,
        "status": case.status,
        "created_by": case.created_by,
        "created_at": case.created_at.to_rfc3339(),
        "approved_by": case.approved_by,
        "approval_note": case.approval_note,
        "handed_to": case.handed_to,
        "updated_at": case.updated_at.to_rfc3339(),
        "items": items,
    })
}

pub async fn run(cli: &Cli, config: Config, command: &CasesCommand) -> Result<ExitCode> {
    if let CasesCommand::Verify { file, json } = command {
        return verify(file, *json);
    }
    let env = crate::open_env(cli, config).await?;
    match command {
        CasesCommand::Create {
            title,
            candidates,
            reviewer,
            summary,
            legal_basis,
        } => {
            let case = env
                .store
                .create_case(&NewCase {
                    title,
                    summary: summary.as_deref(),
                    legal_basis: legal_basis.as_deref(),
                    candidates,
                    reviewer,
                })
                .await
                .map_err(store_error)?;
            eprintln!(
                "case {}: draft opened by {reviewer} with {} item(s)",
                case.id,
                env.store.case_items(case.id).await?.len()
            );
            println!("{}", case.id);
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::Approve { id, reviewer, note } => {
            let case = env
                .store
                .approve_case(*id, reviewer, note)
                .await
                .map_err(store_error)?;
            eprintln!("case {}: approved by {reviewer}", case.id);
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::Handover { id, to, actor } => {
            let case = env
                .store
                .hand_over_case(*id, to, actor)
                .await
                .map_err(store_error)?;
            eprintln!("case {}: handed over to {to}", case.id);
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::Acknowledge { id, by } => {
            let case = env
                .store
                .acknowledge_case(*id, by)
                .await
                .map_err(store_error)?;
            eprintln!("case {}: acknowledged by {by}", case.id);
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::Close { id, reviewer, note } => {
            let case = env
                .store
                .close_case(*id, reviewer, note)
                .await
                .map_err(store_error)?;
            eprintln!("case {}: closed by {reviewer}", case.id);
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::Export { id, out, actor } => export(&env, *id, out, actor).await,
        CasesCommand::List { json } => {
            let cases = env.store.cases(None).await?;
            let mut rows = Vec::new();
            for case in &cases {
                rows.push(case_json(case, env.store.case_items(case.id).await?.len()));
            }
            if *json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for (case, row) in cases.iter().zip(&rows) {
                    println!(
                        "{:>5}  {:<12} {:>3} items  {:<12} {}",
                        case.id,
                        case.status,
                        row["items"],
                        case.handed_to.as_deref().unwrap_or("-"),
                        case.title
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::Show { id, json } => show(&env, *id, *json).await,
        CasesCommand::Verify { .. } => unreachable!("handled above"),
    }
}

async fn export(env: &Env, id: i64, out: &Path, actor: &str) -> Result<ExitCode> {
    if env.store.case(id).await?.is_none() {
        return Err(crate::bad_input(format!("no case {id}")));
    }
    // Make sure the file can be written before the export is recorded in the custody log.
    let tmp = out.with_extension("zip.part");
    std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    let built = match env
        .build_case_file(
            id,
            actor,
            custody_action::EXPORTED,
            serde_json::json!({"file": out.file_name().map(|n| n.to_string_lossy().into_owned())}),
        )
        .await
    {
        Ok(built) => built,
        Err(err) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(job_error(err));
        }
    };
    {
        use std::io::Write;
        let mut file =
            std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
        file.write_all(&built.bytes)
            .with_context(|| format!("writing {}", tmp.display()))?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "case {id}: {} item(s), {} files written to {} (manifest sha256 {}, custody entry {} hash {})",
        built.items,
        built.files,
        out.display(),
        built.manifest_sha256,
        built.custody_seq,
        built.custody_head
    );
    Ok(ExitCode::SUCCESS)
}

fn verify(file: &Path, json: bool) -> Result<ExitCode> {
    let bytes =
        std::fs::read(file).map_err(|e| crate::bad_input(format!("{}: {e}", file.display())))?;
    let check = diembao_jobs::verify_case_file(&bytes);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"ok": check.ok(), "check": check}))?
        );
    } else if check.ok() {
        println!(
            "ok: case {}, {} item(s), {} files, {} custody entries, head {}",
            check
                .case_id
                .map_or_else(|| "?".to_string(), |id| id.to_string()),
            check.items,
            check.files,
            check.custody_entries,
            check.custody_head.as_deref().unwrap_or("-")
        );
    } else {
        for line in &check.problems {
            println!("{line}");
        }
    }
    if check.ok() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: {}: {} problem(s); the case file does not verify",
            file.display(),
            check.problems.len()
        );
        Ok(ExitCode::from(1))
    }
}

async fn show(env: &Env, id: i64, json: bool) -> Result<ExitCode> {
    let case = env
        .store
        .case(id)
        .await?
        .ok_or_else(|| crate::bad_input(format!("no case {id}")))?;
    let evidence = env.store.case_evidence(id).await.map_err(store_error)?;
    let custody: Vec<CustodyRecord> = env
        .store
        .custody_log(id)
        .await?
        .iter()
        .map(CustodyRecord::from_entry)
        .collect();
    let chain = diembao_store::verify_chain(&custody);
    if json {
        let items: Vec<serde_json::Value> = evidence
            .iter()
            .map(|ev| {
                serde_json::json!({
                    "candidate_id": ev.candidate.id,
                    "document_id": ev.collected.document_id,
                    "url": ev.collected.url,
                    "title": ev.collected.title,
                    "source": ev.collected.source,
                    "rules": ev.candidate.rules,
                    "severity": ev.candidate.severity,
                    "evidence_sha256": ev.collected.capture_sha256.clone().unwrap_or_else(|| ev.collected.content_hash.clone()),
                    "captured_at": ev.capture.as_ref().map(|c| c.captured_at.to_rfc3339()),
                })
            })
            .collect();
        let mut out = case_json(&case, evidence.len());
        out["items"] = serde_json::json!(items);
        out["custody"] = serde_json::json!(custody);
        out["chain_ok"] = serde_json::json!(chain.is_empty());
        out["chain_problems"] = serde_json::json!(chain);
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("case {}: {}", case.id, case.title);
        println!("  status       {}", case.status);
        println!(
            "  created by   {} at {}",
            case.created_by,
            case.created_at.to_rfc3339()
        );
        if let Some(by) = &case.approved_by {
            println!(
                "  approved by  {by}: {}",
                case.approval_note.as_deref().unwrap_or("")
            );
        }
        if let Some(to) = &case.handed_to {
            println!("  handed to    {to}");
        }
        if let Some(basis) = &case.legal_basis {
            println!("  legal basis  {basis}");
        }
        println!("  items:");
        for ev in &evidence {
            println!(
                "    candidate {:>5}  {}  {}",
                ev.candidate.id, ev.collected.url, ev.collected.title
            );
        }
        println!(
            "  custody log ({}):",
            if chain.is_empty() {
                "chain ok"
            } else {
                "CHAIN BROKEN"
            }
        );
        for e in &custody {
            println!(
                "    {:>3}  {}  {:<12} {:<12} {}{}",
                e.seq,
                e.at,
                e.action,
                e.actor,
                e.item_id.map_or_else(String::new, |i| format!("item {i} ")),
                &e.hash[..16.min(e.hash.len())]
            );
        }
        for problem in &chain {
            println!("  ! {problem}");
        }
    }
    Ok(if chain.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
