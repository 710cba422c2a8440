//! Helpers shared by the integration tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use guardrail::config::{self, ConfigErrors};
use guardrail::live::fake::FakeOrg;
use guardrail::live::{read_organization, WalkOptions};
use guardrail::model::{Desired, LiveOrg};
use guardrail::policy::limits::LimitsTable;

/// Parses a config whose documents live in `docs` (paths relative to the config).
pub fn parse_with(text: &str, docs: &BTreeMap<PathBuf, String>) -> Result<Desired, ConfigErrors> {
    config::parse(Path::new("environments/test.toml"), text, &|p: &Path| {
        docs.get(p).cloned().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory")
        })
    })
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub async fn read(fake: &FakeOrg) -> LiveOrg {
    read_organization(fake, &WalkOptions::default())
        .await
        .unwrap()
}

/// Imports the fake's organization and parses the result back.
pub async fn import(fake: &FakeOrg) -> (LiveOrg, Desired, config::Emitted) {
    let live = read(fake).await;
    let emitted = config::emit("test", &live, &LimitsTable::default()).unwrap();
    let docs: BTreeMap<PathBuf, String> = emitted.documents.iter().cloned().collect();
    let desired =
        parse_with(&emitted.config, &docs).unwrap_or_else(|e| panic!("{e}\n{}", emitted.config));
    (live, desired, emitted)
}
