//! The commands that serve other tools rather than the organization: shell completions, the
//! man page, the config's JSON Schema, and `validate --format sarif` (which reads the config
//! and its documents as text, so the SARIF log can point at their lines).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Subcommand};
use clap_complete::Shell;

use super::args::Cli;
use super::commands::{config_path, emit};
use super::ExitStatus;
use crate::config;
use crate::plan;
use crate::render::sarif;

/// `completions`, `man`, `schema`: offline, they read nothing and print to stdout.
#[derive(Debug, Clone, Subcommand)]
pub enum Tool {
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell). For example:
    /// `guardrail completions bash > ~/.local/share/bash-completion/completions/guardrail`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page (roff), for example `guardrail man > guardrail.1 && man ./guardrail.1`.
    Man,
    /// Print the JSON Schema of `environments/<env>.toml` (what `import`'s `#:schema`
    /// directive names), for editors that validate TOML with a schema.
    Schema,
}

pub fn run(tool: &Tool) -> anyhow::Result<ExitStatus> {
    match tool {
        Tool::Completions { shell } => emit(&completions(*shell))?,
        Tool::Man => emit(&man_page()?)?,
        Tool::Schema => emit(&config::schema::json_schema_text())?,
    }
    Ok(ExitStatus::Success)
}

/// The completion script of `shell` for the whole command line.
pub fn completions(shell: Shell) -> String {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "guardrail", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The man page: `guardrail(1)`, then a section per subcommand with its synopsis,
/// description and options.
pub fn man_page() -> anyhow::Result<String> {
    let cmd = Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    let mut page = String::from_utf8_lossy(&out).into_owned();
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        let man = clap_mangen::Man::new(sub.clone().bin_name(format!("guardrail {name}")));
        let mut synopsis = Vec::new();
        man.render_synopsis_section(&mut synopsis)?;
        let mut description = Vec::new();
        man.render_description_section(&mut description)?;
        let mut options = Vec::new();
        man.render_options_section(&mut options)?;
        let section = |buf: &[u8], header: &str, with: &str| {
            String::from_utf8_lossy(buf).replacen(header, with, 1)
        };
        page.push_str(&section(
            &synopsis,
            ".SH SYNOPSIS\n",
            &format!(".SH \"GUARDRAIL {}\"\n", name.to_uppercase()),
        ));
        page.push_str(&section(&description, ".SH DESCRIPTION\n", ""));
        // Its headings (`OPTIONS`, `AWS OPTIONS`) become subsections of the command's.
        page.push_str(&String::from_utf8_lossy(&options).replace(".SH ", ".SS "));
    }
    Ok(page)
}

/// `validate --format sarif`: the findings of a config that loads, or its config errors, as a
/// SARIF log on stdout. Exit 0 when clean, 1 otherwise, as the other formats.
pub fn validate_sarif(cli: &Cli, env: &str) -> anyhow::Result<ExitStatus> {
    let path = config_path(&cli.environments, env)?;
    let log = match config::load(&path) {
        Err(errors) => {
            emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&sarif::config_errors_sarif(&errors))?
            ))?;
            return Ok(ExitStatus::Failure);
        }
        Ok(desired) => {
            let report = plan::verify::validate(&desired);
            let text = std::fs::read_to_string(&path)?;
            let documents = documents(&path, &desired);
            let sources = sarif::Sources {
                config: &path,
                config_text: &text,
                documents: &documents,
            };
            let log = sarif::validation_sarif(&sources, &desired, &report);
            (log, report.is_clean())
        }
    };
    emit(&format!("{}\n", serde_json::to_string_pretty(&log.0)?))?;
    Ok(if log.1 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// The text of every policy document a lint note names, by the path the config gives it.
/// One that cannot be read now (it was read a moment ago) is left out: its notes then point
/// at the config.
fn documents(config: &Path, d: &crate::model::Desired) -> BTreeMap<PathBuf, String> {
    let dir = config.parent().unwrap_or(Path::new(""));
    d.lint
        .iter()
        .filter_map(|n| n.document.clone())
        .filter_map(|doc| {
            let text = std::fs::read_to_string(dir.join(&doc)).ok()?;
            Some((doc, text))
        })
        .collect()
}
